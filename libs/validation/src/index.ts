export * from './invalid-input';
export * from './storable-text';
export * from './input-checks';
