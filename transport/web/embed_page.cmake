# Builds the wallet page served at GET / and embeds it in C++.
#
# Run in script mode by the custom command of transport/web/CMakeLists.txt:
#   cmake -DWEB_DIR=<transport/web> -DOUTPUT=<file.cc> -P embed_page.cmake
#
# Reads wallet.html, replaces its two marked lines, the stylesheet link and the
# script tag, with the contents of wallet.css and wallet.js inline (so the page
# is one self-contained document), and writes a .cc that defines
# sbd::WalletPageHtml() over those bytes (embed_bytes.cmake).
cmake_minimum_required(VERSION 3.25)

if(NOT WEB_DIR OR NOT OUTPUT)
  message(FATAL_ERROR "embed_page.cmake: pass -DWEB_DIR=... -DOUTPUT=...")
endif()

file(READ "${WEB_DIR}/wallet.html" html)
file(READ "${WEB_DIR}/wallet.css" css)
file(READ "${WEB_DIR}/wallet.js" js)

# Inline text must not end its own element early.
string(TOLOWER "${css}" css_lower)
string(TOLOWER "${js}" js_lower)
string(FIND "${css_lower}" "</style" css_close)
string(FIND "${js_lower}" "</script" js_close)
if(NOT css_close EQUAL -1)
  message(FATAL_ERROR "embed_page.cmake: wallet.css contains '</style'")
endif()
if(NOT js_close EQUAL -1)
  message(FATAL_ERROR "embed_page.cmake: wallet.js contains '</script'")
endif()

# Each marker must appear exactly once.
function(sbd_replace_once text marker replacement out)
  string(FIND "${text}" "${marker}" first)
  string(FIND "${text}" "${marker}" last REVERSE)
  if(first EQUAL -1 OR NOT first EQUAL last)
    message(FATAL_ERROR "embed_page.cmake: wallet.html must contain '${marker}' exactly once")
  endif()
  string(REPLACE "${marker}" "${replacement}" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

sbd_replace_once("${html}" [[<link rel="stylesheet" href="wallet.css">]] "<style>\n${css}</style>" html)
sbd_replace_once("${html}" [[<script src="wallet.js"></script>]] "<script>\n${js}</script>" html)

set(page "${OUTPUT}.page.html")
file(WRITE "${page}" "${html}")
include(${CMAKE_CURRENT_LIST_DIR}/embed_bytes.cmake)
sbd_embed_bytes(
  INPUT "${page}"
  OUTPUT "${OUTPUT}"
  HEADER "transport/wallet_page.h"
  FUNCTION WalletPageHtml
  ORIGIN "transport/web/wallet.html, wallet.css and wallet.js by\n// transport/web/embed_page.cmake"
  WHAT "UTF-8 HTML")
file(REMOVE "${page}")
