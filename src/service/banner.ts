/** The start banner: where we listen, the admin token, and a curl to paste. */
export function banner(opts: {
  port: number;
  token: string;
  generated: boolean;
  storage: string;
  queue: string;
  role: string;
}): string {
  const base = `http://localhost:${opts.port}`;
  return [
    '',
    `  feature-events pipeline ready on ${base}  (role: ${opts.role})`,
    `  storage: ${opts.storage}`,
    `  queue:   ${opts.queue}`,
    `  admin token${opts.generated ? ' (generated, kept in DATA_DIR/admin-token)' : ''}: ${opts.token}`,
    '',
    '  Try it:',
    `    export TB_HOST=${base} TB_ADMIN_TOKEN=${opts.token}`,
    `    curl -X POST "$TB_HOST/v0/events?name=feature_events" -H "Authorization: Bearer $TB_ADMIN_TOKEN" \\`,
    `      -d '{"event_id":"evt_12345","user_id":"usr_789","feature_id":"feature_recommendations","product_version":"2.4.1","event_type":"feature_used","timestamp":"2023-10-15 14:35:22","session_id":"sess_456","metadata":"{\\"duration_seconds\\":45}"}'`,
    `    curl "$TB_HOST/v0/pipes/user_feature_usage.json?token=$TB_ADMIN_TOKEN&user_id=usr_789"`,
    '',
  ].join('\n');
}
