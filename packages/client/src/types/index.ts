export type * from "./common.js";
export type * from "./communications.js";
export type * from "./messaging.js";
export type * from "./automation.js";
export type * from "./engagement.js";
