"""The EU proof of age from the user's wallet (issue 21, docs/accounts.md).

An ISO/IEC 18013-5 mdoc of the EU age-verification blueprint (doctype and
namespace `eu.europa.ec.av.1`, one element `age_over_18`), presented over
OpenID4VP 1.0 (request by value, `direct_post`) or the browser's Digital
Credentials API. The issuer takes no part in the presentation, so it never
learns which site asked; we learn only "18 or over", signed by an issuer of
our trust list, and keep only the verdict, the trust anchor and the time.

- `protocol`: the request we send and the session transcript the wallet signs;
- `trust`: the trust list (AGE_WALLET_TRUST_LIST, plus the demo root under DEBUG);
- `verifier`: the checks on a DeviceResponse;
- `holder`: issuing and presenting an mdoc (the demonstration wallet and the tests);
- `demo`: the DEBUG-only demonstration issuer and wallet.
"""
