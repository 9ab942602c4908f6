'use strict';
// In-memory store; the service is stateless behind a load balancer in
// development and backed by the database adapter in production.
const todos = new Map();

module.exports = {
  list: () => [...todos.values()],
  add: (t) => { todos.set(t.id, t); return t; },
  update: (id, patch) => {
    const t = todos.get(id);
    if (!t) return undefined;
    Object.assign(t, patch);
    return t;
  },
  remove: (id) => todos.delete(id),
};
