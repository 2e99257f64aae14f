export * from "./tenants";
export * from "./providers";
export * from "./communications";
