export * from './webhook-url';
