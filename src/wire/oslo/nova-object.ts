/**
 * nova's conductor proxies object methods over RPC (nova/conductor/rpcapi.py): the RPC method is
 * always `object_action` / `object_class_action(_versions)`, which tells an operator nothing; the
 * object and its method are in the arguments:
 * - object_action(objinst, objmethod, args, kwargs): objinst is a serialized object with
 *   `nova_object.name`;
 * - object_class_action_versions(objname, objmethod, object_versions, args, kwargs) and the older
 *   object_class_action(objname, objmethod, objver, args, kwargs) name the class directly.
 * Returns e.g. "Instance.save", or undefined when the method is not one of these.
 */
export function novaObjectName(method: string | undefined, args: unknown): string | undefined {
  if (method === undefined || !method.startsWith('object_')) return undefined;
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return undefined;
  const a = args as Record<string, unknown>;
  const objmethod = typeof a.objmethod === 'string' ? a.objmethod : undefined;
  let name: string | undefined;
  if (method === 'object_action' || method === 'object_backport_versions') {
    const inst = a.objinst;
    if (inst !== null && typeof inst === 'object') {
      const n = (inst as Record<string, unknown>)['nova_object.name'];
      if (typeof n === 'string') name = n;
    }
  } else if (method === 'object_class_action_versions' || method === 'object_class_action') {
    if (typeof a.objname === 'string') name = a.objname;
  }
  if (name === undefined) return undefined;
  if (method === 'object_backport_versions') return `${name}.backport`;
  return objmethod !== undefined ? `${name}.${objmethod}` : name;
}
