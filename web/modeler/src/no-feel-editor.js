// Stands in for @bpmn-io/feel-editor and @bpmn-io/feelers-editor in the bundle. The properties
// panel imports them for FEEL fields of the Camunda/Zeebe providers; Weijian's groups (the
// standard BPMN provider and ours) render no FEEL field, so these editors (and the FEEL grammar
// and builtins they bring, ~300 kB) are left out. Rendering a FEEL field would fail loudly here.
export default class FeelEditorUnavailable {
  constructor() {
    throw new Error('The FEEL editor is not part of the Weijian modeler bundle');
  }
}

export const FeelersEditor = FeelEditorUnavailable;
