export { gate, pipeline } from './pipeline.js';
