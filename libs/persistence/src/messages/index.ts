export * from './status-sql';
export * from './intake';
export * from './listing';
export * from './status';
export * from './dispatch';
export * from './reconcile';
export * from './cancel';
export * from './hour-counts';
