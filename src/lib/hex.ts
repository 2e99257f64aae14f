/** Lower-case hex of bytes: digests and HMACs as the providers' signature headers spell them. */
export const hexEncode = (bytes: Uint8Array | ArrayBuffer) => Array.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
