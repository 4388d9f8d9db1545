// SpiffWorkflow reads bpmn:loopDataInputRef / bpmn:loopDataOutputRef as names of process
// variables ("officers"), not as references to data inputs in the model. bpmn-moddle cannot
// resolve them, warns and drops them, so a file saved by the modeler would lose its
// multi-instance collections. Put a placeholder carrying the original name in their place; the
// XML writer writes a reference as the referenced element's id, which is that name again.
const VARIABLE_REFERENCES = ['bpmn:loopDataInputRef', 'bpmn:loopDataOutputRef'];

/**
 * @param {object} moddle the bpmn-moddle instance that parsed the file
 * @param {Array<{message: string, element?: object, property?: string, value?: string}>} warnings
 * @returns {number} how many references were kept
 */
export function keepVariableReferences(moddle, warnings) {
  let kept = 0;
  for (const warning of warnings || []) {
    const { element, property, value } = warning;
    if (!element || !VARIABLE_REFERENCES.includes(property) || typeof value !== 'string') continue;
    if (element.get(property)) continue;
    element.set(property, moddle.create('bpmn:ItemAwareElement', { id: value }));
    kept += 1;
  }
  return kept;
}
