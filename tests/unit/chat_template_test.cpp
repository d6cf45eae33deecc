// Chat templates of the supported architectures, typed in as those models ship them in
// tokenizer_config.json, rendered against the exact prompts transformers produces.
#include "kiln/chat_template.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiln/error.hpp"

using kiln::ChatMessage;
using kiln::ChatTemplate;
using Json = nlohmann::json;

namespace {

const char* const kLlama2 =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') "
    "}}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == "
    "'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

const char* const kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% "
    "endif %}";

// TinyLlama-1.1B-Chat (Zephyr style): the newlines between tags matter under trim_blocks.
const char* const kTinyLlama =
    "{% for message in messages %}\n"
    "{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
    "{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n"
    "{{ '<|assistant|>' }}\n"
    "{% endif %}\n"
    "{% endfor %}";

const char* const kQwen2 =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% "
    "endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const char* const kMistral =
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') "
    "}}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% "
    "endfor %}";

// Qwen2.5-Instruct: tools, tool calls and tool responses, written with '-' whitespace control.
const char* const kQwen25 = R"JINJA({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)JINJA";

// Mistral-Instruct-v0.3 style: namespace() counter, selectattr, system message folded into the
// last user turn.
const char* const kMistralV3 = R"JINJA({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {{- tool | tojson }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
            {%- endfor %}
            {{- "][/AVAILABLE_TOOLS]" }}
        {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
)JINJA";

// Llama-3.1-Instruct: tools as JSON in the first user turn (tojson(indent=4)), tool calls, builtin
// tools and the ipython role.
const char* const kLlama31 = R"JINJA({{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
)JINJA";

const Json kLlamaTokens = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};

std::vector<ChatMessage> sys_user() { return {{"system", "SYS"}, {"user", "hi"}}; }
std::vector<ChatMessage> four_turns() {
    return {{"system", "SYS"}, {"user", "hi"}, {"assistant", "hello"}, {"user", "more"}};
}

std::string error_of(const ChatTemplate& t, const std::vector<ChatMessage>& m,
                     const Json& extra = {}) {
    try {
        t.apply(m, true, extra);
    } catch (const kiln::Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(ChatTemplateModels, Llama2) {
    ChatTemplate t(kLlama2);
    EXPECT_EQ(t.apply(sys_user(), true, kLlamaTokens),
              "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nhi [/INST]");
    EXPECT_EQ(t.apply(sys_user(), false, kLlamaTokens),
              "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nhi [/INST]");
    EXPECT_EQ(t.apply(four_turns(), true, kLlamaTokens),
              "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nhi [/INST] hello </s><s>[INST] more [/INST]");
    EXPECT_EQ(t.apply({{"user", "  hi  "}}, true, kLlamaTokens), "<s>[INST] hi [/INST]");
    EXPECT_EQ(error_of(t, {{"user", "a"}, {"user", "b"}}, kLlamaTokens),
              "Conversation roles must alternate user/assistant/user/assistant/...");
}

TEST(ChatTemplateModels, Llama3) {
    ChatTemplate t(kLlama3);
    const Json tokens = {{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}};
    EXPECT_EQ(t.apply(sys_user(), true, tokens),
              "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSYS<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_EQ(t.apply({{"user", "\n hi \n"}, {"assistant", "yo "}}, false, tokens),
              "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\nyo<|eot_id|>");
}

TEST(ChatTemplateModels, TinyLlamaZephyr) {
    ChatTemplate t(kTinyLlama);
    EXPECT_EQ(t.apply(sys_user(), true, kLlamaTokens),
              "<|system|>\nSYS</s>\n<|user|>\nhi</s>\n<|assistant|>\n");
    EXPECT_EQ(t.apply(sys_user(), false, kLlamaTokens), "<|system|>\nSYS</s>\n<|user|>\nhi</s>\n");
    EXPECT_EQ(t.apply(four_turns(), true, kLlamaTokens),
              "<|system|>\nSYS</s>\n<|user|>\nhi</s>\n<|assistant|>\nhello</s>\n<|user|>\nmore</"
              "s>\n<|assistant|>\n");
}

TEST(ChatTemplateModels, Qwen2DefaultSystemMessage) {
    ChatTemplate t(kQwen2);
    EXPECT_EQ(t.apply({{"user", "hi"}}, true),
              "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
              "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_EQ(t.apply(sys_user(), false),
              "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
}

TEST(ChatTemplateModels, Mistral) {
    ChatTemplate t(kMistral);
    EXPECT_EQ(t.apply({{"user", "hi"}}, true, kLlamaTokens), "<s>[INST] hi [/INST]");
    EXPECT_EQ(
        t.apply({{"user", "hi"}, {"assistant", "hello"}, {"user", "more"}}, true, kLlamaTokens),
        "<s>[INST] hi [/INST]hello</s>[INST] more [/INST]");
    EXPECT_EQ(error_of(t, sys_user(), kLlamaTokens),
              "Conversation roles must alternate user/assistant/user/assistant/...");
    EXPECT_EQ(error_of(t, {{"assistant", "x"}}, kLlamaTokens),
              "Conversation roles must alternate user/assistant/user/assistant/...");
}

TEST(ChatTemplateModels, MistralV3NamespaceAndSelectattr) {
    ChatTemplate t(kMistralV3);
    EXPECT_EQ(t.apply(four_turns(), true, kLlamaTokens),
              "<s>[INST] hi[/INST] hello</s>[INST] SYS\n\nmore[/INST]");
    Json extra = kLlamaTokens;
    extra["tools"] = Json::array({Json{{"name", "f"}}});
    EXPECT_EQ(t.apply({{"user", "a"}, {"assistant", "b"}, {"user", "c"}}, true, extra),
              "<s>[INST] a[/INST] b</s>[AVAILABLE_TOOLS] [{\"name\": "
              "\"f\"}][/AVAILABLE_TOOLS][INST] c[/INST]");
    EXPECT_EQ(error_of(t, {{"system", "s"}, {"assistant", "x"}}, kLlamaTokens),
              "After the optional system message, conversation roles must alternate "
              "user/assistant/user/assistant/...");
}

TEST(ChatTemplateModels, Qwen25WithoutTools) {
    ChatTemplate t(kQwen25);
    EXPECT_EQ(t.apply({{"user", "hi"}}, true),
              "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
              "assistant.<|im_end|>\n"
              "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_EQ(t.apply(four_turns(), false),
              "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
              "<|im_start|>assistant\nhello<|im_end|>\n<|im_start|>user\nmore<|im_end|>\n");
}

TEST(ChatTemplateModels, Qwen25ToolsAndToolCalls) {
    ChatTemplate t(kQwen25);
    Json tool = {{"type", "function"},
                 {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}};
    Json messages = Json::array({
        {{"role", "user"}, {"content", "Weather in Paris?"}},
        {{"role", "assistant"},
         {"content", ""},
         {"tool_calls",
          Json::array(
              {{{"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}})}},
        {{"role", "tool"}, {"content", "18C"}},
        {{"role", "tool"}, {"content", "sunny"}},
    });
    Json context = {
        {"messages", messages}, {"tools", Json::array({tool})}, {"add_generation_prompt", true}};
    // nlohmann::json sorts keys, so the tool prints with "function" before "type".
    EXPECT_EQ(
        t.render(context),
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
        "assistant.\n\n"
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
        "{\"function\": {\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\"}}, "
        "\"type\": \"function\"}\n"
        "</tools>\n\nFor each function call, return a json object with function name and arguments "
        "within "
        "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
        "\"arguments\": "
        "<args-json-object>}\n</tool_call><|im_end|>\n"
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
        "\"Paris\"}}\n"
        "</tool_call><|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n18C\n</tool_response>\n<tool_response>\nsunny\n</"
        "tool_response>"
        "<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateModels, ChatmlDefault) {
    ChatTemplate t(ChatTemplate::chatml_default());
    EXPECT_EQ(t.apply(sys_user(), true),
              "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>"
              "assistant\n");
    EXPECT_EQ(t.apply({{"user", "hi"}}, false), "<|im_start|>user\nhi<|im_end|>\n");
    EXPECT_EQ(t.apply({}, true), "<|im_start|>assistant\n");
}

TEST(ChatTemplateModels, ParsedOnceRenderedMany) {
    ChatTemplate t(kQwen2);
    for (int i = 0; i < 3; ++i) {
        std::string text = "q" + std::to_string(i);
        EXPECT_EQ(t.apply({{"system", "S"}, {"user", text}}, false),
                  "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n" + text + "<|im_end|>\n");
    }
}

TEST(ChatTemplateModels, ExtraVariablesAndPrecedence) {
    ChatTemplate t(
        "{{ bos_token }}|{{ messages | length }}|{{ add_generation_prompt }}|{{ tools is none "
        "}}|{{ custom }}");
    Json extra = {{"bos_token", "<s>"},
                  {"messages", "ignored"},
                  {"add_generation_prompt", "ignored"},
                  {"custom", 7}};
    EXPECT_EQ(t.apply({{"user", "a"}, {"user", "b"}}, false, extra), "<s>|2|False|True|7");
    EXPECT_THROW(t.apply({}, false, Json::array()), kiln::Error);
    EXPECT_THROW(t.render(Json("text")), kiln::Error);
    EXPECT_EQ(ChatTemplate("x{{ y }}").render(nullptr), "x");
}

TEST(ChatTemplateModels, AddedTokenObjectsRenderAsTheirText) {
    ChatTemplate t(kLlama2);
    const Json extra = {
        {"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}, {"lstrip", false}}},
        {"eos_token", "</s>"}};
    EXPECT_EQ(t.apply({{"user", "hi"}}, true, extra), "<s>[INST] hi [/INST]");
}

TEST(ChatTemplateModels, MessagesKeepRoleBeforeContent) {
    ChatTemplate t("{{ messages[0] | tojson }} {{ messages[0] }}");
    EXPECT_EQ(t.apply({{"user", "hi"}}, false),
              "{\"role\": \"user\", \"content\": \"hi\"} {'role': 'user', 'content': 'hi'}");
}

TEST(ChatTemplateModels, Llama31ToolsAndToolCalls) {
    ChatTemplate t(kLlama31);
    const Json bos = {{"bos_token", "<|begin_of_text|>"}};
    const std::string header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n";
    const std::string dates = "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
    const std::string user_hi = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
    const std::string assistant = "<|start_header_id|>assistant<|end_header_id|>\n\n";
    const std::vector<ChatMessage> messages = {{"system", " Be brief. "}, {"user", "Hi"}};
    EXPECT_EQ(t.apply(messages, true, bos),
              header + dates + "Be brief.<|eot_id|>" + user_hi + assistant);

    Json extra = bos;
    extra["tools"] =
        Json::array({{{"type", "function"},
                      {"function", {{"name", "get_weather"}, {"description", "Get weather"}}}}});
    EXPECT_EQ(
        t.apply(messages, true, extra),
        header + "Environment: ipython\n" + dates + "Be brief.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\n"
            "Given the following functions, please respond with a JSON for a function call with "
            "its proper "
            "arguments that best answers the given prompt.\n\nRespond in the format {\"name\": "
            "function name, "
            "\"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n"
            "{\n    \"function\": {\n        \"description\": \"Get weather\",\n        \"name\": "
            "\"get_weather\"\n"
            "    },\n    \"type\": \"function\"\n}\n\nHi<|eot_id|>" +
            assistant);

    Json context = bos;
    context["add_generation_prompt"] = true;
    context["builtin_tools"] = {"brave_search", "code_interpreter"};
    context["messages"] = Json::array(
        {{{"role", "user"}, {"content", "Hi"}},
         {{"role", "assistant"},
          {"tool_calls",
           Json::array(
               {{{"function", {{"name", "brave_search"}, {"arguments", {{"query", "x"}}}}}}})}},
         {{"role", "tool"}, {"content", "18C"}}});
    EXPECT_EQ(t.render(context),
              header + "Environment: ipython\nTools: brave_search\n\n" + dates + "<|eot_id|>" +
                  user_hi + assistant +
                  "<|python_tag|>brave_search.call(query=\"x\")<|eom_id|>"
                  "<|start_header_id|>ipython<|end_header_id|>\n\n\"18C\"<|eot_id|>" +
                  assistant);
}
