import { describe, expect, it } from "vitest";
import { canMove } from "./status";

describe("canMove", () => {
  it("moves progress forward only", () => {
    expect(canMove("sent", "delivered")).toBe(true);
    expect(canMove("sending", "delivered")).toBe(true);
    expect(canMove("delivered", "opened")).toBe(true);
    expect(canMove("sent", "clicked")).toBe(true);
    expect(canMove("clicked", "delivered")).toBe(false);
    expect(canMove("delivered", "delivered")).toBe(false);
    expect(canMove("opened", "sent")).toBe(false);
  });

  it("lets a bounce or failure end a message not yet engaged with", () => {
    expect(canMove("sent", "bounced")).toBe(true);
    expect(canMove("delivered", "bounced")).toBe(true);
    expect(canMove("opened", "bounced")).toBe(false);
  });

  it("keeps final states final", () => {
    for (const final of ["failed", "bounced", "suppressed", "cancelled"] as const) {
      for (const to of ["sent", "delivered", "opened", "failed"] as const) expect(canMove(final, to)).toBe(false);
    }
  });
});
