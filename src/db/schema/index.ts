export * from "./tenants";
export * from "./providers";
export * from "./communications";
export * from "./templates";
export * from "./tracking";
export * from "./preferences";
export * from "./automation";
export * from "./campaigns";
