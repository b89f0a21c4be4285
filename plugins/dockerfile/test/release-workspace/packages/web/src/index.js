import { shout } from '@acme/utils';
import ms from 'ms';

console.log(shout(`web ready in ${ms(1500)}`));
