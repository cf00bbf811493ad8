import {
  END_CALL_TOOL_NAME,
  type ToolConfig,
  TRANSFER_TOOL_NAME,
  type TransferToolConfig,
} from "../../config/tools.ts";
import type { ToolDefinition } from "../../providers/types.ts";

/**
 * The function definitions the model sees, generated from a number's `tools` (provider-neutral:
 * src/providers/openai.ts wraps each as a Chat Completions tool; a Realtime session takes the
 * same name, description and parameters).
 */
export function toolDefinitions(tools: readonly ToolConfig[]): ToolDefinition[] {
  return tools.map((tool): ToolDefinition => {
    if (tool.type === "transfer") return transferDefinition(tool);
    if (tool.type === "end_call") {
      return {
        name: END_CALL_TOOL_NAME,
        description:
          tool.description ??
          "Hang up the call. Use it only when the conversation is over (the caller said goodbye or has nothing more). Say your goodbye in the same reply; it is played before the line closes.",
        parameters: { type: "object", properties: {}, additionalProperties: false },
      };
    }
    return { name: tool.name, description: tool.description, parameters: tool.parameters };
  });
}

function transferDefinition(tool: TransferToolConfig): ToolDefinition {
  const targets = tool.targets
    .map((t) => (t.description ? `"${t.name}" (${t.description})` : `"${t.name}"`))
    .join("; ");
  return {
    name: TRANSFER_TOOL_NAME,
    description:
      tool.description ??
      `Transfer the caller to a person when they ask for one or you cannot help. Targets: ${targets}.`,
    parameters: {
      type: "object",
      properties: {
        target: {
          type: "string",
          enum: tool.targets.map((t) => t.name),
          description: "the name of the target to connect the caller to",
        },
      },
      required: ["target"],
      additionalProperties: false,
    },
  };
}
