export * from './envelope';
export * from './parse';
export * from './problems';
export * from './task';
export * from './text';
export * from './job';
export * from './podcast';
export * from './batch';
