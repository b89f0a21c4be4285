import { shout } from '@acme/utils';

console.log(shout('admin'));
