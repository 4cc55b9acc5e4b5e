export * from './redis-connections';
export * from './device-queues';
export * from './device-presence';
export * from './work-signal';
export * from './message-enqueuer';
export * from './status-queue';
export * from './queueing.module';
