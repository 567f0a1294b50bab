// The wallet page served at GET / (API.md): one self-contained HTML document.
// `/#token=<jwt>` opens it signed in.
//
// Thread-safety: returns a view of a static constant.
#ifndef SBD_TRANSPORT_WALLET_PAGE_H_
#define SBD_TRANSPORT_WALLET_PAGE_H_

#include <string_view>

namespace sbd {

// The page's HTML (static storage; valid for the whole program).
std::string_view WalletPageHtml();

}  // namespace sbd

#endif  // SBD_TRANSPORT_WALLET_PAGE_H_
