import { ofsError } from '../errors.js';

/**
 * Triton's endpoint access control (`--http-restricted-api`, `--grpc-restricted-protocol`, each
 * `<api>,<api>,…:<key>=<value>`): a request to an API of a restricted group must carry header `key`
 * (HTTP) or metadata `triton-grpc-protocol-<key>` (gRPC) with exactly `value`. Pure: parsing and the
 * check; the HTTP and gRPC adapters decide which API a request belongs to and how to refuse it.
 */

/** Triton's API group names (RestrictedCategory), in Triton's order. */
export const RESTRICTED_APIS = [
  'health',
  'metadata',
  'inference',
  'shared-memory',
  'model-config',
  'model-repository',
  'statistics',
  'trace',
  'logging',
] as const;
export type RestrictedApi = (typeof RESTRICTED_APIS)[number];

export interface Restriction {
  /** Header (HTTP) or metadata key (gRPC, with Triton's prefix), lower case. */
  readonly header: string;
  readonly value: string;
}

export type Restrictions = ReadonlyMap<RestrictedApi, Restriction>;

/** Triton prefixes every gRPC restriction key with this. */
export const GRPC_RESTRICTED_PREFIX = 'triton-grpc-protocol-';

const isApi = (name: string): name is RestrictedApi => (RESTRICTED_APIS as readonly string[]).includes(name);

/**
 * Parses every occurrence of one flag. An API may appear in one group only (as Triton requires);
 * `flag` names the flag in messages and decides the gRPC prefix.
 */
export function parseRestrictions(flag: '--http-restricted-api' | '--grpc-restricted-protocol', specs: readonly string[]): Restrictions {
  const out = new Map<RestrictedApi, Restriction>();
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const eq = colon === -1 ? -1 : spec.indexOf('=', colon + 1);
    const apis = colon === -1 ? '' : spec.slice(0, colon);
    const key = eq === -1 ? '' : spec.slice(colon + 1, eq).trim();
    if (colon === -1 || eq === -1 || apis.trim() === '' || key === '') {
      throw ofsError('OFS_BAD_ARGUMENT', `${flag} expects <api>[,<api>…]:<key>=<value>, e.g. model-repository,model-config:admin-key=secret; got '${spec}'`);
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw ofsError('OFS_BAD_ARGUMENT', `${flag}: '${key}' cannot be a header name (letters, digits and -_. only)`);
    }
    const value = spec.slice(eq + 1);
    const header = (flag === '--grpc-restricted-protocol' ? GRPC_RESTRICTED_PREFIX + key : key).toLowerCase();
    for (const raw of apis.split(',')) {
      const api = raw.trim();
      if (!isApi(api)) {
        throw ofsError('OFS_BAD_ARGUMENT', `${flag}: unknown API '${api}'; the groups are ${RESTRICTED_APIS.join(', ')}`);
      }
      if (out.has(api)) throw ofsError('OFS_BAD_ARGUMENT', `${flag}: API '${api}' is in more than one group; give each API once`);
      out.set(api, { header, value });
    }
  }
  return out;
}

/**
 * The refusal message for a request without the right header, or undefined when it may proceed.
 * `get` reads a header / metadata value by its lower-case name.
 */
export function restrictionFailure(
  restrictions: Restrictions,
  api: RestrictedApi | undefined,
  get: (name: string) => string | undefined,
  kind: 'API' | 'protocol',
): string | undefined {
  if (!api) return undefined;
  const r = restrictions.get(api);
  if (!r || get(r.header) === r.value) return undefined;
  // Triton's wording: HTTP "This API is restricted, …", gRPC "This protocol is restricted, …"
  return `This ${kind} is restricted, expecting header '${r.header}'`;
}
