import assert from "node:assert/strict";
import { userPath } from "./user_path.ts";

Deno.test("userPath resolves relative paths against INIT_CWD", () => {
  const before = Deno.env.get("INIT_CWD");
  try {
    Deno.env.set("INIT_CWD", "/home/u/photos");
    assert.equal(userPath("in.png"), "/home/u/photos/in.png");
    assert.equal(userPath("../x/./y.png"), "/home/u/x/y.png");
    assert.equal(userPath("/abs/p.png"), "/abs/p.png");
    Deno.env.set("INIT_CWD", Deno.cwd());
    assert.equal(userPath("rel/p.png"), "rel/p.png");
  } finally {
    if (before === undefined) Deno.env.delete("INIT_CWD");
    else Deno.env.set("INIT_CWD", before);
  }
});
