import { shout } from '@acme/utils';
import color from 'tiny-color';
import log from 'tiny-log';

log(color(shout('admin')));
