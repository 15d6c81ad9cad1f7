// node-oidc-provider 9 in CIBA poll mode: the comparison arm of bench/compare.sh for
// POST /backchannel/authentication. In-memory adapter (the library's default), one client
// authenticating with client_secret_basic, and the CIBA hooks minimal and non-blocking: the
// login hint is the account id, any user code and binding message are accepted, and the
// authentication device is not contacted.
//
// node provider.js PORT
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node provider.js PORT');
  process.exit(2);
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench-client',
    client_secret: 'bench-client-secret',
    grant_types: ['urn:openid:params:grant-type:ciba'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_token_delivery_mode: 'poll',
  }],
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: false },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      processLoginHint: async (ctx, loginHint) => loginHint,
      processLoginHintToken: async () => undefined,
      validateBindingMessage: async () => {},
      validateRequestContext: async () => {},
      verifyUserCode: async () => {},
      triggerAuthenticationDevice: async () => {},
    },
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`node-oidc-provider listening on 127.0.0.1:${port}`);
});
