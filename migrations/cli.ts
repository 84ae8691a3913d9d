// npm run db:migrate: applies migrations/NNNN_*.sql to the database at DATABASE_URL, each once.
import pg from "pg";
import { migrate, readMigrations } from "./runner.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)");
  process.exit(2);
}
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  const applied = await migrate(client, readMigrations(import.meta.dirname));
  console.log(applied.length ? `applied migrations ${applied.join(", ")}` : "database is up to date");
} finally {
  await client.end();
}
