/**
 * Which methods a client path takes, so a wrong method answers 405 with `Allow` instead of a
 * bare 404. Every other path still takes POST: the original diststore's `POST /:key`.
 */
const EXACT: Record<string, string[]> = {
  '/': ['GET', 'POST'],
  '/post': ['POST'],
  '/post-local': ['POST'],
  '/delete': ['POST'],
  '/ui/post': ['POST'],
  '/ui/cluster': ['GET'],
  '/get': ['GET'],
  '/get-local': ['GET'],
  '/keys': ['GET', 'DELETE'],
  '/status': ['GET'],
  '/health': ['GET'],
  '/ready': ['GET'],
  '/metrics': ['GET'],
  '/openapi.json': ['GET'],
  '/list': ['GET'],
};
const PREFIXES: [string, string[]][] = [
  ['/get/', ['GET']],
  ['/get-local/', ['GET']],
  ['/getlocal/', ['GET']],
  ['/keys/', ['DELETE']],
  ['/local/', ['POST']],
];

/** The methods `path` answers to. */
export function allowedMethods(path: string): string[] {
  const exact = EXACT[path];
  if (exact) return exact;
  const prefixed = PREFIXES.find(([prefix]) => path.startsWith(prefix));
  if (prefixed) return prefixed[1];
  return path.startsWith('/internal/') ? [] : ['POST'];
}
