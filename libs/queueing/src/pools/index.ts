export * from './pool-choice';
export * from './pool-changed-signal';
export * from './pool-router';
