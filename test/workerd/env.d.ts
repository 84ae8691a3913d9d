// Types of `env` and `exports` inside the workerd test project.
import type { Env as ProjectEnv } from "../../objects/env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends ProjectEnv {}
    interface GlobalProps {
      mainModule: typeof import("../../worker/index.ts");
    }
  }
}
