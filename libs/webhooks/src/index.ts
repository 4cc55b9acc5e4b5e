export * from './webhook-url';
export * from './address-policy';
export * from './retry-after';
export * from './safe-http-client';
export * from './signature';
export * from './retry-policy';
export * from './webhook-event';
export * from './batch-body';
