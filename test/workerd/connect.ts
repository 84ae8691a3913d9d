import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { partitionObjectName } from "../../core/object-name.ts";
import { WorkerdSocket } from "./socket.ts";

/** JWT_SECRET of test/workerd/wrangler.test.toml. */
const SECRET = new TextEncoder().encode("workerd-test-secret");

/** An HS256 token for `user`, valid for an hour. */
export function testToken(user: string): Promise<string> {
  return new SignJWT({ roles: [] }).setProtectedHeader({ alg: "HS256" }).setSubject(user).setIssuedAt().setExpirationTime("1h").sign(SECRET);
}

/** Opens `/ws?<query>` through the Worker and authenticates as `user`. */
export async function connectAs(query: string, user: string): Promise<WorkerdSocket> {
  const socket = await WorkerdSocket.open(query);
  await socket.waitFor("AUTH_REQUIRED");
  socket.send({ type: "AUTH", token: await testToken(user) });
  await socket.waitFor("AUTH_ACK");
  return socket;
}

/** The stub of a partition of the default namespace. */
export function partitionStub(partition: number) {
  return env.PARTITION.get(env.PARTITION.idFromName(partitionObjectName("default", partition)));
}
