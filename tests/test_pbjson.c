/* test_pbjson.c: the generic protobuf-c -> JSON encoder against exact
 * expected texts, compact and pretty. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "councilnet.pb-c.h"
#include "councilnet/pbjson.h"
#include "test.h"

/* Encode M both ways and compare with the expected texts. */
static void check_both(const ProtobufCMessage *m, const char *compact, const char *pretty)
{
  char *c = cn_pbjson_encode(m, 0);
  char *p = cn_pbjson_encode(m, 1);

  CHECK_STR(c, compact);
  if (pretty)
    CHECK_STR(p, pretty);
  free(c);
  free(p);
}

static void test_error_enum_and_escapes(void)
{
  Councilnet__Error e = COUNCILNET__ERROR__INIT;

  e.code = COUNCILNET__ERROR_CODE__NOT_FOUND;
  e.name = "NOT_FOUND";
  e.message = "say \"hi\" \\ back\nnow\x01 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  check_both(&e.base,
             "{\"code\":\"NOT_FOUND\",\"name\":\"NOT_FOUND\",\"message\":"
             "\"say \\\"hi\\\" \\\\ back\\nnow\\u0001 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
             "{\n"
             "  \"code\": \"NOT_FOUND\",\n"
             "  \"name\": \"NOT_FOUND\",\n"
             "  \"message\": \"say \\\"hi\\\" \\\\ back\\nnow\\u0001 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n"
             "}\n");

  /* Every other control character, DEL and the C1 controls (U+0080 to
   * U+009F) escaped; U+00A0 passes; '/' is not escaped. */
  e.code = COUNCILNET__ERROR_CODE__OK;
  e.name = "\b\f\r\t\x1f\x7f/";
  e.message = "\xc2\x80\xc2\x9b\xc2\xa0";
  check_both(&e.base,
             "{\"code\":\"OK\",\"name\":\"\\b\\f\\r\\t\\u001f\\u007f/\","
             "\"message\":\"\\u0080\\u009b\xc2\xa0\"}",
             NULL);
  e.message = "";

  /* Invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate,
   * above U+10FFFF. Each bad byte becomes U+FFFD. */
  e.name = "a\x80" "b\xe2\x82" "c\xc0\xaf" "d\xed\xa0\x80" "e\xf4\x90\x80\x80" "f\xc3";
  check_both(&e.base,
             "{\"code\":\"OK\",\"name\":\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffdd"
             "\\ufffd\\ufffd\\ufffde\\ufffd\\ufffd\\ufffd\\ufffdf\\ufffd\",\"message\":\"\"}",
             NULL);

  /* An enum value the descriptor does not know is written as its number;
   * a NULL string as "". */
  e.code = (Councilnet__ErrorCode)99;
  e.name = NULL;
  check_both(&e.base, "{\"code\":99,\"name\":\"\",\"message\":\"\"}", NULL);
}

static void test_decision(void)
{
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  Councilnet__GroupQuorumResult g1 = COUNCILNET__GROUP_QUORUM_RESULT__INIT;
  Councilnet__GroupQuorumResult g2 = COUNCILNET__GROUP_QUORUM_RESULT__INIT;
  Councilnet__GroupQuorumResult *gs[2];
  uint64_t counts[3] = { 5, 3, UINT64_MAX };
  uint8_t node[4] = { 0x00, 0xab, 0xff, 0x10 };

  g1.group = "renters";
  g1.share_permille = 300;
  g1.votes = 3;
  g1.held = 1;
  g2.group = "youth";
  g2.share_permille = 100;
  g2.votes = 0;
  g2.held = 0;
  gs[0] = &g1;
  gs[1] = &g2;
  d.node.data = node;
  d.node.len = sizeof node;
  d.created = 1700000000;
  d.n_counts = 3;
  d.counts = counts;
  d.ballots = 8;
  d.paper = 1;
  d.roll = 10;
  d.cast = 8;
  d.turnout_held = 1;
  d.n_group_quorums = 2;
  d.group_quorums = gs;
  d.threshold_held = 1;
  d.passed = 0;
  d.winner = -1;
  check_both(&d.base,
             "{\"node\":\"00abff10\",\"created\":1700000000,\"proposal\":\"\","
             "\"counts\":[5,3,18446744073709551615],\"ballots\":8,\"paper\":1,\"roll\":10,"
             "\"cast\":8,\"turnout_held\":true,\"group_quorums\":["
             "{\"group\":\"renters\",\"share_permille\":300,\"votes\":3,\"held\":true},"
             "{\"group\":\"youth\",\"share_permille\":100,\"votes\":0,\"held\":false}],"
             "\"threshold_held\":true,\"passed\":false,\"winner\":-1,\"selected\":[],\"seed\":\"\",\"volunteers\":[],\"contributions\":[],\"lot_signature\":\"\",\"too_few_volunteers\":false,\"contribution_records\":[]}",
             "{\n"
             "  \"node\": \"00abff10\",\n"
             "  \"created\": 1700000000,\n"
             "  \"proposal\": \"\",\n"
             "  \"counts\": [\n"
             "    5,\n"
             "    3,\n"
             "    18446744073709551615\n"
             "  ],\n"
             "  \"ballots\": 8,\n"
             "  \"paper\": 1,\n"
             "  \"roll\": 10,\n"
             "  \"cast\": 8,\n"
             "  \"turnout_held\": true,\n"
             "  \"group_quorums\": [\n"
             "    {\n"
             "      \"group\": \"renters\",\n"
             "      \"share_permille\": 300,\n"
             "      \"votes\": 3,\n"
             "      \"held\": true\n"
             "    },\n"
             "    {\n"
             "      \"group\": \"youth\",\n"
             "      \"share_permille\": 100,\n"
             "      \"votes\": 0,\n"
             "      \"held\": false\n"
             "    }\n"
             "  ],\n"
             "  \"threshold_held\": true,\n"
             "  \"passed\": false,\n"
             "  \"winner\": -1,\n"
             "  \"selected\": [],\n"
             "  \"seed\": \"\",\n"
             "  \"volunteers\": [],\n"
             "  \"contributions\": [],\n"
             "  \"lot_signature\": \"\",\n"
             "  \"too_few_volunteers\": false,\n"
             "  \"contribution_records\": []\n"
             "}\n");

  /* Defaults are written too; empty repeated fields are []. */
  {
    Councilnet__Decision empty = COUNCILNET__DECISION__INIT;
    check_both(&empty.base,
               "{\"node\":\"\",\"created\":0,\"proposal\":\"\",\"counts\":[],\"ballots\":0,"
               "\"paper\":0,\"roll\":0,\"cast\":0,\"turnout_held\":false,\"group_quorums\":[],"
               "\"threshold_held\":false,\"passed\":false,\"winner\":0,\"selected\":[],\"seed\":\"\",\"volunteers\":[],\"contributions\":[],\"lot_signature\":\"\",\"too_few_volunteers\":false,\"contribution_records\":[]}",
               "{\n"
               "  \"node\": \"\",\n"
               "  \"created\": 0,\n"
               "  \"proposal\": \"\",\n"
               "  \"counts\": [],\n"
               "  \"ballots\": 0,\n"
               "  \"paper\": 0,\n"
               "  \"roll\": 0,\n"
               "  \"cast\": 0,\n"
               "  \"turnout_held\": false,\n"
               "  \"group_quorums\": [],\n"
               "  \"threshold_held\": false,\n"
               "  \"passed\": false,\n"
               "  \"winner\": 0,\n"
               "  \"selected\": [],\n"
               "  \"seed\": \"\",\n"
               "  \"volunteers\": [],\n"
               "  \"contributions\": [],\n"
               "  \"lot_signature\": \"\",\n"
             "  \"too_few_volunteers\": false,\n"
             "  \"contribution_records\": []\n"
               "}\n");
  }
}

static void test_proposal_nested(void)
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule r = COUNCILNET__RULE__INIT;
  Councilnet__GroupQuorum g = COUNCILNET__GROUP_QUORUM__INIT;
  Councilnet__GroupQuorum *gs[1];
  Councilnet__ProposalView v = COUNCILNET__PROPOSAL_VIEW__INIT;
  char *options[3] = { "park", "library \"new\"", "pool\tside" };
  uint8_t id[2] = { 0xde, 0xad };

  g.group = "renters";
  g.share_permille = 300;
  gs[0] = &g;
  r.threshold = COUNCILNET__THRESHOLD__TWO_THIRDS;
  r.turnout_permille = 250;
  r.n_group_quorums = 1;
  r.group_quorums = gs;
  r.replace = 1;
  p.created = 5;
  p.title = "Budget 2025";
  p.text = "Line one\nLine two";
  p.option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
  p.n_options = 3;
  p.options = options;
  p.opens = 100;
  p.closes = 200;
  p.rule = &r;
  check_both(&p.base,
             "{\"node\":\"\",\"created\":5,\"title\":\"Budget 2025\",\"text\":\"Line one\\nLine two\","
             "\"option_kind\":\"ONE_OF_N\",\"options\":[\"park\",\"library \\\"new\\\"\",\"pool\\tside\"],"
             "\"opens\":100,\"closes\":200,\"rule\":{\"threshold\":\"TWO_THIRDS\",\"turnout_permille\":250,"
             "\"group_quorums\":[{\"group\":\"renters\",\"share_permille\":300}],\"replace\":true,\"weight_by_roll\":false}}",
             "{\n"
             "  \"node\": \"\",\n"
             "  \"created\": 5,\n"
             "  \"title\": \"Budget 2025\",\n"
             "  \"text\": \"Line one\\nLine two\",\n"
             "  \"option_kind\": \"ONE_OF_N\",\n"
             "  \"options\": [\n"
             "    \"park\",\n"
             "    \"library \\\"new\\\"\",\n"
             "    \"pool\\tside\"\n"
             "  ],\n"
             "  \"opens\": 100,\n"
             "  \"closes\": 200,\n"
             "  \"rule\": {\n"
             "    \"threshold\": \"TWO_THIRDS\",\n"
             "    \"turnout_permille\": 250,\n"
             "    \"group_quorums\": [\n"
             "      {\n"
             "        \"group\": \"renters\",\n"
             "        \"share_permille\": 300\n"
             "      }\n"
             "    ],\n"
             "    \"replace\": true,\n"
             "    \"weight_by_roll\": false\n"
             "  }\n"
             "}\n");

  /* Three levels deep; the unset decision (NULL) is omitted. */
  p.n_options = 0;
  p.options = NULL;
  p.option_kind = COUNCILNET__OPTION_KIND__APPROVAL;
  p.text = "";
  r.n_group_quorums = 0;
  r.group_quorums = NULL;
  v.id.data = id;
  v.id.len = sizeof id;
  v.seq = 7;
  v.proposal = &p;
  v.state = COUNCILNET__PROPOSAL_STATE__OPEN;
  v.ballots = 2;
  check_both(&v.base,
             "{\"id\":\"dead\",\"seq\":7,\"author\":\"\",\"proposal\":{\"node\":\"\",\"created\":5,"
             "\"title\":\"Budget 2025\",\"text\":\"\",\"option_kind\":\"APPROVAL\",\"options\":[],"
             "\"opens\":100,\"closes\":200,\"rule\":{\"threshold\":\"TWO_THIRDS\","
             "\"turnout_permille\":250,\"group_quorums\":[],\"replace\":true,\"weight_by_roll\":false}},"
             "\"state\":\"OPEN\",\"ballots\":2}",
             "{\n"
             "  \"id\": \"dead\",\n"
             "  \"seq\": 7,\n"
             "  \"author\": \"\",\n"
             "  \"proposal\": {\n"
             "    \"node\": \"\",\n"
             "    \"created\": 5,\n"
             "    \"title\": \"Budget 2025\",\n"
             "    \"text\": \"\",\n"
             "    \"option_kind\": \"APPROVAL\",\n"
             "    \"options\": [],\n"
             "    \"opens\": 100,\n"
             "    \"closes\": 200,\n"
             "    \"rule\": {\n"
             "      \"threshold\": \"TWO_THIRDS\",\n"
             "      \"turnout_permille\": 250,\n"
             "      \"group_quorums\": [],\n"
             "      \"replace\": true,\n"
             "      \"weight_by_roll\": false\n"
             "    }\n"
             "  },\n"
             "  \"state\": \"OPEN\",\n"
             "  \"ballots\": 2\n"
             "}\n");

  /* Rule unset: omitted. */
  p.rule = NULL;
  check_both(&p.base,
             "{\"node\":\"\",\"created\":5,\"title\":\"Budget 2025\",\"text\":\"\","
             "\"option_kind\":\"APPROVAL\",\"options\":[],\"opens\":100,\"closes\":200}",
             NULL);
}

static void test_repeated_bytes_and_uint32(void)
{
  Councilnet__NodeInfo n = COUNCILNET__NODE_INFO__INIT;
  Councilnet__Ballot b = COUNCILNET__BALLOT__INIT;
  ProtobufCBinaryData conv[2];
  uint8_t k1[3] = { 0x01, 0x02, 0x0f };
  uint8_t k2[1] = { 0xf0 };
  uint32_t choices[3] = { 0, 4294967295u, 2 };

  conv[0].data = k1;
  conv[0].len = sizeof k1;
  conv[1].data = k2;
  conv[1].len = sizeof k2;
  n.name = "Quartier Nord";
  n.n_conveners = 2;
  n.conveners = conv;
  n.seq = 42;
  n.version = "0.1.0";
  check_both(&n.base,
             "{\"key\":\"\",\"name\":\"Quartier Nord\",\"conveners\":[\"01020f\",\"f0\"],\"seq\":42,"
             "\"head\":\"\",\"time\":0,\"roll\":0,\"version\":\"0.1.0\"}",
             NULL);

  b.n_choices = 3;
  b.choices = choices;
  check_both(&b.base,
             "{\"node\":\"\",\"created\":0,\"proposal\":\"\",\"choices\":[0,4294967295,2],\"member\":\"\"}",
             "{\n"
             "  \"node\": \"\",\n"
             "  \"created\": 0,\n"
             "  \"proposal\": \"\",\n"
             "  \"choices\": [\n"
             "    0,\n"
             "    4294967295,\n"
             "    2\n"
             "  ],\n"
             "  \"member\": \"\"\n"
             "}\n");
}

/* A hand-made descriptor for the field kinds councilnet.proto does not use:
 * float, double, sint32, bool, proto2-style optional with has_, a oneof,
 * and repeated doubles and enums. Only the parts the encoder reads are set. */
typedef struct test_misc_t {
  ProtobufCMessage base;
  double d;
  float f;
  int32_t s;
  protobuf_c_boolean flag;
  protobuf_c_boolean has_opt;
  int64_t opt;
  char *opt_str;
  uint32_t which;
  char *one_str;
  int32_t one_int;
  size_t n_ds;
  double *ds;
  size_t n_states;
  Councilnet__ProposalState *states;
} test_misc_t;

static const ProtobufCFieldDescriptor misc_fields[] = {
  { "d", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, 0,
    offsetof(test_misc_t, d), NULL, NULL, 0, 0, NULL, NULL },
  { "f", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FLOAT, 0,
    offsetof(test_misc_t, f), NULL, NULL, 0, 0, NULL, NULL },
  { "s", 3, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SINT32, 0,
    offsetof(test_misc_t, s), NULL, NULL, 0, 0, NULL, NULL },
  { "flag", 4, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_BOOL, 0,
    offsetof(test_misc_t, flag), NULL, NULL, 0, 0, NULL, NULL },
  { "opt", 5, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT64,
    offsetof(test_misc_t, has_opt), offsetof(test_misc_t, opt), NULL, NULL, 0, 0, NULL, NULL },
  { "opt_str", 6, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_STRING, 0,
    offsetof(test_misc_t, opt_str), NULL, NULL, 0, 0, NULL, NULL },
  { "one_str", 7, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING,
    offsetof(test_misc_t, which), offsetof(test_misc_t, one_str), NULL, NULL,
    PROTOBUF_C_FIELD_FLAG_ONEOF, 0, NULL, NULL },
  { "one_int", 8, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32,
    offsetof(test_misc_t, which), offsetof(test_misc_t, one_int), NULL, NULL,
    PROTOBUF_C_FIELD_FLAG_ONEOF, 0, NULL, NULL },
  { "ds", 9, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_DOUBLE,
    offsetof(test_misc_t, n_ds), offsetof(test_misc_t, ds), NULL, NULL,
    PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL },
  { "states", 10, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_ENUM,
    offsetof(test_misc_t, n_states), offsetof(test_misc_t, states),
    &councilnet__proposal_state__descriptor, NULL, PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL },
};

static const ProtobufCMessageDescriptor misc_descriptor = {
  PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Misc", "Misc", "TestMisc", "test",
  sizeof(test_misc_t), sizeof misc_fields / sizeof misc_fields[0], misc_fields,
  NULL, 0, NULL, NULL, NULL, NULL, NULL
};

static void test_generic_kinds(void)
{
  test_misc_t m;
  double ds[5];
  Councilnet__ProposalState states[3] = { COUNCILNET__PROPOSAL_STATE__CLOSED,
                                          COUNCILNET__PROPOSAL_STATE__UPCOMING,
                                          COUNCILNET__PROPOSAL_STATE__OPEN };

  memset(&m, 0, sizeof m);
  m.base.descriptor = &misc_descriptor;
  m.d = 0.1;
  m.f = 0.1f;
  m.s = -42;
  check_both(&m.base,
             "{\"d\":0.1,\"f\":0.1,\"s\":-42,\"flag\":false,\"ds\":[],\"states\":[]}",
             "{\n  \"d\": 0.1,\n  \"f\": 0.1,\n  \"s\": -42,\n  \"flag\": false,\n"
             "  \"ds\": [],\n  \"states\": []\n}\n");

  ds[0] = 1.5;
  ds[1] = -0.0;
  ds[2] = NAN;
  ds[3] = -INFINITY;
  ds[4] = 1e300;
  m.d = 123456789.125;
  m.f = 3.0f;
  m.flag = 1;
  m.has_opt = 1;
  m.opt = INT64_MIN;
  m.opt_str = "x";
  m.which = 8;
  m.one_str = "not me";
  m.one_int = 7;
  m.n_ds = 5;
  m.ds = ds;
  m.n_states = 3;
  m.states = states;
  check_both(&m.base,
             "{\"d\":123456789.125,\"f\":3,\"s\":-42,\"flag\":true,\"opt\":-9223372036854775808,"
             "\"opt_str\":\"x\",\"one_int\":7,\"ds\":[1.5,-0,\"NaN\",\"-Infinity\",1e+300],"
             "\"states\":[\"CLOSED\",\"UPCOMING\",\"OPEN\"]}",
             NULL);

  m.which = 7;
  m.has_opt = 0;
  m.opt_str = NULL;
  m.n_ds = 0;
  m.n_states = 0;
  check_both(&m.base,
             "{\"d\":123456789.125,\"f\":3,\"s\":-42,\"flag\":true,\"one_str\":\"not me\","
             "\"ds\":[],\"states\":[]}",
             NULL);
}

static void test_null_input(void)
{
  CHECK(cn_pbjson_encode(NULL, 0) == NULL);
  CHECK(cn_pbjson_encode(NULL, 1) == NULL);
}

/* A large message: the buffer must grow past its first allocation many times. */
static void test_large(void)
{
  Councilnet__Ballot b = COUNCILNET__BALLOT__INIT;
  uint32_t *choices = NULL;
  char *json = NULL;
  size_t i, n = 100000;

  choices = calloc(n, sizeof *choices);
  REQUIRE(choices != NULL);
  for (i = 0; i < n; i++)
    choices[i] = 7;
  b.n_choices = n;
  b.choices = choices;
  json = cn_pbjson_encode(&b.base, 0);
  REQUIRE(json != NULL);
  /* {"node":"","created":0,"proposal":"","choices":[ + n*"7," - 1 + ],"member":""} */
  CHECK_EQ_INT(strlen(json), strlen("{\"node\":\"\",\"created\":0,\"proposal\":\"\",\"choices\":[") +
                             2 * n - 1 + strlen("],\"member\":\"\"}"));
  CHECK_STR(json + strlen(json) - strlen("7,7],\"member\":\"\"}"), "7,7],\"member\":\"\"}");
done:
  free(json);
  free(choices);
}

/* One string alone, as the client writes its own JSON fields: the same
 * escapes, and always valid UTF-8 (a raw 0x9B is no C1 control, but it is
 * no UTF-8 either). */
static void test_string(void)
{
  char *q = cn_pbjson_string("a\"\x1b\x7f\xc2\x9b\x9b\xe2\x82\xac");
  CHECK_STR(q, "\"a\\\"\\u001b\\u007f\\u009b\\ufffd\xe2\x82\xac\"");
  free(q);
  q = cn_pbjson_string(NULL);
  CHECK_STR(q, "\"\"");
  free(q);
}

int main(void)
{
  test_string();
  test_error_enum_and_escapes();
  test_decision();
  test_proposal_nested();
  test_repeated_bytes_and_uint32();
  test_generic_kinds();
  test_null_input();
  test_large();
  return test_finish("test_pbjson");
}
