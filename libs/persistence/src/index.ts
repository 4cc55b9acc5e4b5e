export * from './entities';
export * from './migrations';
export * from './data-source-options';
export * from './database-admin';
export * from './persistence.module';
export * from './coalescing-batcher';
export * from './refusal-split';
export * from './dead-letters';
