// A real OpenID Connect provider (panva's oidc-provider) on loopback, for the
// organisation sign-in tests. Its login page takes any login name; the account's
// claims come from ACCOUNTS. PKCE is required of every client.
//
//   PORT=9201 CLIENT_ID=tvargrupp CLIENT_SECRET=s REDIRECT_URI=http://localhost:8000/... \
//   ACCOUNTS='{"maria": {"email": "maria@example.se", "email_verified": true, "name": "Maria"}}' \
//   node tests/oidc/provider.mjs
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  cookies: { keys: ['tvargrupp-test-only'] },
  async findAccount(ctx, id) {
    const claims = accounts[id] || {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...claims };
      },
    };
  },
});
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
