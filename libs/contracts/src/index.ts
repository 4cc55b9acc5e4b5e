export * from './message-status';
export * from './sim-slot';
export * from './queues';
export * from './jobs';
export * from './socket-events';
export * from './presence';
export * from './phone-number';
