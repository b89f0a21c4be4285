import { shout } from '@acme/utils';
import color from 'tiny-color';
import ms from 'tiny-ms';

console.log(color(shout(`web ready in ${ms(1500)}`)));
