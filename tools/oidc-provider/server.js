// A real OpenID Connect provider for qgov's tests: panva's oidc-provider with its development login
// screens (any password; the login names an account of the accounts file). Configured by environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   the one confidential client (qgov)
//   OIDC_REDIRECT_URIS                   its redirect URIs, comma-separated
//   OIDC_ACCOUNTS_FILE                   JSON {"<login>": {"email": ..., "groups": [...], "acr": ..., "amr": [...]}},
//                                        read at every sign-in, so a test can change a person's groups
// It listens on 127.0.0.1 on a free port the OS picks, with issuer http://127.0.0.1:<port>, and prints
// "listening <issuer>" once it answers.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const accounts = () => JSON.parse(readFileSync(env('OIDC_ACCOUNTS_FILE'), 'utf8'));

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('OIDC_CLIENT_ID'),
      client_secret: env('OIDC_CLIENT_SECRET'),
      redirect_uris: env('OIDC_REDIRECT_URIS').split(','),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      require_auth_time: true,
    }],
    claims: {
      openid: ['sub'], email: ['email', 'email_verified'], acr: null, amr: null, auth_time: null, sid: null,
      profile: ['preferred_username', 'given_name', 'family_name', 'groups'],
    },
    // The claims of the granted scopes go into the ID token itself, which is what qgov reads.
    conformIdTokenClaims: false,
    acrValues: ['urn:qgov:test:password', 'urn:qgov:test:phr'],
    cookies: { keys: ['qgov-test-only-cookie-key'] },
    pkce: { required: () => true },
    async findAccount(ctx, id) {
      const account = accounts()[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          const current = accounts()[id] || {};
          return {
            sub: id, email: current.email, email_verified: true, preferred_username: id,
            given_name: current.given_name, family_name: current.family_name, groups: current.groups || [],
          };
        },
      };
    },
  });
  provider.proxy = false;
  // The development login screen signs in with the account only; the account's acr and amr are what
  // its authentication would have been (a password, or phishing-resistant MFA).
  const finished = provider.interactionFinished.bind(provider);
  provider.interactionFinished = (req, res, result, options) => {
    if (result.login) {
      const account = accounts()[result.login.accountId] || {};
      if (account.acr) result.login.acr = account.acr;
      if (account.amr) result.login.amr = account.amr;
    }
    return finished(req, res, result, options);
  };
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});
