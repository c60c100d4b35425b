// Xerces-C++ reaches a URL (a schema location, an external DTD or entity)
// through its net accessor, which Debian builds on libcurl. farmctl never
// lets a document reach anything outside itself (xml_reader.h refuses every
// DOCTYPE and resolves no entity or schema location), so it links Xerces
// from Debian's static archive with this accessor in place of libcurl's:
// every URL is refused, the process holds no network client at all, and
// neither the shared Xerces nor the 25 libraries it brought (libcurl and its
// TLS, Kerberos, LDAP, SSH) are loaded at each start of farmctl
// (docs/design/xerces-linking.md).
//
// It defines the members of Xerces' own CurlNetAccessor, the class that
// XMLPlatformUtils::Initialize makes: with these defined, the linker never
// takes the archive's member, which needs libcurl. The class is Xerces'
// (its header declares every member defined here, so a Xerces whose class
// differs fails to compile or to link, loudly). compiler/CMakeLists.txt
// links this file only with the static archive, and puts its object on
// every link line ahead of the archive.
#include <xercesc/util/NetAccessors/Curl/CurlNetAccessor.hpp>
#include <xercesc/util/XMLNetAccessor.hpp>
#include <xercesc/util/XMLUni.hpp>

XERCES_CPP_NAMESPACE_BEGIN

int CurlNetAccessor::fgCurlInitCount = 0;
// "farmctl: no network", what getId() answers.
const XMLCh CurlNetAccessor::fgMyName[] = {u'f', u'a', u'r', u'm', u'c', u't', u'l', u':', u' ', u'n', u'o', u' ',
                                           u'n', u'e', u't', u'w', u'o', u'r', u'k', 0};

CurlNetAccessor::CurlNetAccessor() = default;
CurlNetAccessor::~CurlNetAccessor() = default;

// No URL is opened: the same exception Xerces' accessors throw for a URL
// they cannot reach, which the parser reports as an error of the document.
BinInputStream* CurlNetAccessor::makeNew(const XMLURL& urlSource, const XMLNetHTTPInfo*) {
  ThrowXMLwithMemMgr1(NetAccessorException, XMLExcepts::NetAcc_ConnSocket, urlSource.getURLText(),
                      urlSource.getMemoryManager());
}

void CurlNetAccessor::initCurl() {}
void CurlNetAccessor::cleanupCurl() {}

XERCES_CPP_NAMESPACE_END
