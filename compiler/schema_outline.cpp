// This file's external interface is SchemaOutline (schema_outline.h). The
// XSD is read as a plain element tree; anything in it that the outline does
// not hold makes the whole outline nothing, never a looser one.
#include "compiler/schema_outline.h"

#include <algorithm>
#include <initializer_list>
#include <map>

namespace farmctl::fml {

namespace {

constexpr std::string_view kStringType = "xs:string";
// The first type an outline holds: an element of xs:string.
constexpr SchemaOutline::TypeId kStringTypeId = 0;
constexpr std::string_view kBooleanType = "xs:boolean";

std::string_view value_of(const XmlElement& e, std::string_view name) {
  const XmlAttribute* a = e.attribute(name);
  return a == nullptr ? std::string_view() : std::string_view(a->value);
}

// True when every attribute of `e` is one of `allowed`.
bool only_attributes(const XmlElement& e, std::initializer_list<std::string_view> allowed) {
  return std::all_of(e.attributes.begin(), e.attributes.end(), [&](const XmlAttribute& a) {
    return std::find(allowed.begin(), allowed.end(), a.name) != allowed.end();
  });
}

// True when `e` says it repeats any number of times, from none.
bool repeated_from_none(const XmlElement& e) {
  return value_of(e, "minOccurs") == "0" && value_of(e, "maxOccurs") == "unbounded";
}

// Names with the types they stand for: a type's children, the global elements.
using Named = std::vector<std::pair<std::string, SchemaOutline::TypeId>>;

class OutlineReader {
 public:
  explicit OutlineReader(const XmlDocument& xsd) : xsd_(xsd) {}

  // False when the XSD uses anything the outline does not hold.
  bool read(std::vector<SchemaOutline::Type>& types, Named& roots) {
    const XmlElement& schema = xsd_.root();
    if (schema.name != "schema" || !only_attributes(schema, {"elementFormDefault", "attributeFormDefault"}))
      return false;
    for (std::string_view form : {value_of(schema, "elementFormDefault"), value_of(schema, "attributeFormDefault")})
      if (!form.empty() && form != "unqualified") return false;
    types_.emplace_back().text = true;  // kStringTypeId: xs:string, as an element's type
    // Named types first, so that an element may name one declared after it.
    std::vector<std::pair<const XmlElement*, SchemaOutline::TypeId>> named;
    for (const XmlElement* e : children(schema)) {
      if (e->name != "complexType") continue;
      std::string_view name = value_of(*e, "name");
      if (name.empty() || !named_.emplace(std::string(name), next_id()).second) return false;
      named.emplace_back(e, next_id());
      types_.emplace_back();
    }
    for (const auto& [e, id] : named)
      if (!read_complex_type(*e, id, {"name"})) return false;
    for (const XmlElement* e : children(schema)) {
      if (e->name == "complexType") continue;
      if (e->name != "element" || !only_attributes(*e, {"name", "type"})) return false;
      SchemaOutline::TypeId type = element_type(*e);
      if (type == SchemaOutline::kNoType || !add_named(roots_, value_of(*e, "name"), type)) return false;
    }
    types = std::move(types_);
    roots = std::move(roots_);
    return true;
  }

 private:
  SchemaOutline::TypeId next_id() const { return static_cast<SchemaOutline::TypeId>(types_.size()); }

  // The children of `e` that say something (annotations say nothing to a reader).
  std::vector<const XmlElement*> children(const XmlElement& e) const {
    std::vector<const XmlElement*> out;
    for (std::uint32_t c : e.children)
      if (xsd_.at(c).name != "annotation") out.push_back(&xsd_.at(c));
    return out;
  }

  static bool add_named(Named& to, std::string_view name, SchemaOutline::TypeId type) {
    if (name.empty()) return false;
    for (const auto& [n, t] : to)
      if (n == name) return false;  // twice in one place: more than an outline says
    to.emplace_back(std::string(name), type);
    return true;
  }

  // The type of an element declaration: named by `type`, or inline.
  SchemaOutline::TypeId element_type(const XmlElement& e) {
    std::vector<const XmlElement*> inside = children(e);
    std::string_view type = value_of(e, "type");
    if (!type.empty()) {
      if (!inside.empty()) return SchemaOutline::kNoType;
      if (type == kStringType) return kStringTypeId;
      auto named = named_.find(type);
      return named == named_.end() ? SchemaOutline::kNoType : named->second;
    }
    if (inside.size() != 1 || inside[0]->name != "complexType") return SchemaOutline::kNoType;
    SchemaOutline::TypeId id = next_id();
    types_.emplace_back();
    return read_complex_type(*inside[0], id, {}) ? id : SchemaOutline::kNoType;
  }

  bool read_complex_type(const XmlElement& e, SchemaOutline::TypeId id,
                         std::initializer_list<std::string_view> allowed) {
    if (!only_attributes(e, allowed)) return false;
    bool content = false;  // a choice, a sequence or simple content: one at most
    for (const XmlElement* part : children(e)) {
      if (part->name == "attribute") {
        if (!read_attribute(*part, id)) return false;
        continue;
      }
      if (part->name == "anyAttribute") {
        // Only "skip": a validator checks nothing of such an attribute, and
        // of any namespace (the default) it takes a plain name too.
        if (!only_attributes(*part, {"processContents"}) || value_of(*part, "processContents") != "skip" ||
            !children(*part).empty() || types_[id].any_attribute)
          return false;
        types_[id].any_attribute = true;
        continue;
      }
      if (content) return false;
      content = true;
      bool read = part->name == "choice"          ? read_choice(*part, id)
                  : part->name == "sequence"      ? read_sequence(*part, id)
                  : part->name == "simpleContent" ? read_simple_content(*part, id)
                                                  : false;
      if (!read) return false;
    }
    return true;
  }

  bool read_choice(const XmlElement& choice, SchemaOutline::TypeId id) {
    if (!only_attributes(choice, {"minOccurs", "maxOccurs"}) || !repeated_from_none(choice)) return false;
    for (const XmlElement* e : children(choice))
      if (e->name != "element" || !only_attributes(*e, {"name", "type"}) || !add_child(*e, id)) return false;
    return true;
  }

  // A sequence of one element, repeated from none: the same as a choice of it.
  bool read_sequence(const XmlElement& sequence, SchemaOutline::TypeId id) {
    std::vector<const XmlElement*> inside = children(sequence);
    if (!sequence.attributes.empty() || inside.size() != 1) return false;
    const XmlElement& e = *inside[0];
    return e.name == "element" && only_attributes(e, {"name", "type", "minOccurs", "maxOccurs"}) &&
           repeated_from_none(e) && add_child(e, id);
  }

  bool add_child(const XmlElement& e, SchemaOutline::TypeId id) {
    SchemaOutline::TypeId type = element_type(e);
    return type != SchemaOutline::kNoType && add_named(types_[id].children, value_of(e, "name"), type);
  }

  bool read_simple_content(const XmlElement& simple, SchemaOutline::TypeId id) {
    std::vector<const XmlElement*> inside = children(simple);
    if (!simple.attributes.empty() || inside.size() != 1) return false;
    const XmlElement& extension = *inside[0];
    if (extension.name != "extension" || !only_attributes(extension, {"base"}) ||
        value_of(extension, "base") != kStringType)
      return false;
    types_[id].text = true;
    for (const XmlElement* a : children(extension))
      if (a->name != "attribute" || !read_attribute(*a, id)) return false;
    return true;
  }

  bool read_attribute(const XmlElement& a, SchemaOutline::TypeId id) {
    if (!only_attributes(a, {"name", "type", "use"}) || !children(a).empty()) return false;
    std::string_view name = value_of(a, "name");
    std::string_view type = value_of(a, "type");
    std::string_view use = value_of(a, "use");
    if (name.empty() || (type != kStringType && type != kBooleanType)) return false;
    if (!use.empty() && use != "required" && use != "optional") return false;
    SchemaOutline::Type& t = types_[id];
    for (const SchemaOutline::Attribute& known : t.attributes)
      if (known.name == name) return false;
    bool required = use == "required";
    t.attributes.push_back({std::string(name),
                            type == kBooleanType ? SchemaOutline::ValueType::boolean : SchemaOutline::ValueType::string,
                            required});
    if (required) ++t.required;
    return true;
  }

  const XmlDocument& xsd_;
  std::vector<SchemaOutline::Type> types_;
  Named roots_;
  std::map<std::string, SchemaOutline::TypeId, std::less<>> named_;
};

SchemaOutline::TypeId find_named(const Named& named, std::string_view name) {
  for (const auto& [n, type] : named)
    if (n == name) return type;
  return SchemaOutline::kNoType;
}

}  // namespace

std::optional<SchemaOutline> SchemaOutline::from_xsd(const XmlDocument& xsd) {
  if (xsd.elements.empty()) return std::nullopt;
  SchemaOutline outline;
  if (!OutlineReader(xsd).read(outline.types_, outline.roots_)) return std::nullopt;
  if (outline.types_.size() >= kNoType) return std::nullopt;
  return outline;
}

SchemaOutline::TypeId SchemaOutline::root(std::string_view name) const { return find_named(roots_, name); }

SchemaOutline::TypeId SchemaOutline::child(TypeId parent, std::string_view name) const {
  return find_named(types_[parent].children, name);
}

bool SchemaOutline::fits_any_attribute(const Type& type, std::string_view name) {
  return type.any_attribute && name.find(':') == std::string_view::npos && name != "xmlns";
}

bool SchemaOutline::fits(ValueType type, std::string_view value) {
  if (type == ValueType::string) return true;
  return value == "true" || value == "false" || value == "1" || value == "0";
}

}  // namespace farmctl::fml
