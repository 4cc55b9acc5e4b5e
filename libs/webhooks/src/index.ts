export * from './webhook-url';
export * from './address-policy';
