export * from './invariant-checker';
export * from './invariants.module';
