// HS256 test tokens, shaped like the reference test client's (`sub`, `roles`, `iat`, `exp` 1 h).
import { SignJWT } from "jose";
import { E2E_JWT_SECRET } from "./e2e-config.ts";

export async function signToken(options: { secret?: string; sub?: string; roles?: string[]; expiresIn?: string | number } = {}): Promise<string> {
  const key = new TextEncoder().encode(options.secret ?? E2E_JWT_SECRET);
  let jwt = new SignJWT({ roles: options.roles ?? [] }).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (options.sub !== undefined) jwt = jwt.setSubject(options.sub);
  return jwt.setExpirationTime(options.expiresIn ?? "1h").sign(key);
}
