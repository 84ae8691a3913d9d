// The one zod the server's schemas use: zod/mini, whose functions a bundler keeps only when a schema calls them
// (classic zod's chained methods carry every method into the Worker), with zod's English messages, which the
// wire's error texts quote ("invalid CLIENT_OP at payload.key: Too small: …"). Same rules, same issues.
import { en } from "zod/locales";
import { config } from "zod/mini";

config(en());

export * from "zod/mini";
