// One implementation, shared with the benchmark runner.
export { freePort } from '../../tools/supervisor/free-port';
