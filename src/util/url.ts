/**
 * Removes passwords (and token-like query parameters) from a URL before it is printed or logged.
 * oslo transport URLs may list several hosts ("rabbit://u:p@h1:5672,u:p@h2:5672/vhost"), which
 * WHATWG URL does not parse, so credentials are removed textually for every host.
 */
export function redactUrl(url: string): string {
  let out = url.replace(/([/,@])([^:/@,?#\s]+):[^@/,?#\s]*@/g, '$1$2:***@');
  out = out.replace(
    /([?&#][^=&#]*(?:pass|pwd|token|secret|key|signature|credential|auth)[^=&#]*=)[^&#]*/gi,
    '$1***',
  );
  return out;
}
