// The "卫监 / Weijian" group of the properties panel: what Weijian's engine reads from a BPMN
// element besides the standard BPMN attributes. User and manual tasks keep their settings as
// <spiffworkflow:property name=".." value=".."/> inside <spiffworkflow:properties>; service tasks
// name an operator in <spiffworkflow:serviceTaskOperator id=".."> with its parameters; call
// activities name the called process; a lane's name is the role it stands for.
import { h } from '@bpmn-io/properties-panel/preact';
import {
  ListGroup, SelectEntry, TextAreaEntry, TextFieldEntry,
  isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';

import { label } from './labels.js';

const MULTI = 'properties-panel.multi-command-executor';

// ---- model helpers ---------------------------------------------------------------------------

function extensionValues(bo) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values') : [];
}

function findExtension(bo, type) {
  return extensionValues(bo).find((value) => is(value, type));
}

export function getProperty(bo, name) {
  const props = findExtension(bo, 'spiffworkflow:properties');
  const prop = props && props.get('properties').find((p) => p.get('name') === name);
  return prop ? prop.get('value') || '' : '';
}

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

/** Commands that add `child` to the extension elements of `bo`, creating them when missing. */
function addExtension(element, bo, child, moddle) {
  let ext = bo.get('extensionElements');
  const commands = [];
  if (!ext) {
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push(update(element, bo, { extensionElements: ext }));
  }
  child.$parent = ext;
  commands.push(update(element, ext, { values: [...ext.get('values'), child] }));
  return commands;
}

/** Commands that remove `child` from the extension elements, and those when left empty. */
function removeExtension(element, bo, child) {
  const ext = bo.get('extensionElements');
  const values = ext.get('values').filter((value) => value !== child);
  if (values.length === 0) return [update(element, bo, { extensionElements: undefined })];
  return [update(element, ext, { values })];
}

/** Set (or, with an empty value, remove) one spiffworkflow:property of a task, as one command. */
export function setProperty(element, name, value, commandStack, moddle) {
  const bo = getBusinessObject(element);
  let props = findExtension(bo, 'spiffworkflow:properties');
  const existing = props && props.get('properties').find((p) => p.get('name') === name);
  const commands = [];
  const trimmed = (value || '').trim();
  if (!trimmed) {
    if (!existing) return;
    const rest = props.get('properties').filter((p) => p !== existing);
    if (rest.length) commands.push(update(element, props, { properties: rest }));
    else commands.push(...removeExtension(element, bo, props));
  } else if (existing) {
    commands.push(update(element, existing, { value: trimmed }));
  } else {
    if (!props) {
      props = moddle.create('spiffworkflow:properties', { properties: [] });
      commands.push(...addExtension(element, bo, props, moddle));
    }
    const prop = moddle.create('spiffworkflow:property', { name, value: trimmed });
    prop.$parent = props;
    commands.push(update(element, props, { properties: [...props.get('properties'), prop] }));
  }
  commandStack.execute(MULTI, commands);
}

function getOperator(bo) {
  return findExtension(bo, 'spiffworkflow:serviceTaskOperator');
}

function getParameters(bo) {
  const operator = getOperator(bo);
  const list = operator && operator.get('parameterList');
  return list ? list.get('parameters') : [];
}

/** Select options from the page configuration, plus the current value when it is not among them. */
function options(items, current, emptyLabel) {
  const result = [{ value: '', label: emptyLabel }];
  for (const item of items) result.push({ value: item.key, label: item.label && item.label !== item.key ? `${item.label} (${item.key})` : item.key });
  if (current && !items.some((item) => item.key === current)) result.push({ value: current, label: `${current} ?` });
  return result;
}

// ---- entries ----------------------------------------------------------------------------------

function PropertySelect(props) {
  const { element, id, name, text, items } = props;
  const commandStack = useService('commandStack');
  const moddle = useService('moddle');
  return h(SelectEntry, {
    element, id, label: text,
    getValue: () => getProperty(getBusinessObject(element), name),
    setValue: (value) => setProperty(element, name, value, commandStack, moddle),
    getOptions: () => options(items, getProperty(getBusinessObject(element), name), '—'),
  });
}

function PropertyText(props) {
  const { element, id, name, text, description } = props;
  const commandStack = useService('commandStack');
  const moddle = useService('moddle');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, label: text, description, debounce,
    getValue: () => getProperty(getBusinessObject(element), name),
    setValue: (value) => setProperty(element, name, value, commandStack, moddle),
  });
}

function OperatorSelect(props) {
  const { element, id, items } = props;
  const commandStack = useService('commandStack');
  const moddle = useService('moddle');
  const current = () => {
    const operator = getOperator(getBusinessObject(element));
    return operator ? operator.get('id') || '' : '';
  };
  return h(SelectEntry, {
    element, id, label: label('operator', 'Service operator'),
    getValue: current,
    getOptions: () => options(items, current(), '—'),
    setValue: (value) => {
      const bo = getBusinessObject(element);
      const operator = getOperator(bo);
      if (!value) {
        if (operator) commandStack.execute(MULTI, removeExtension(element, bo, operator));
        return;
      }
      if (operator) {
        commandStack.execute(MULTI, [update(element, operator, { id: value })]);
        return;
      }
      const created = moddle.create('spiffworkflow:serviceTaskOperator', { id: value });
      commandStack.execute(MULTI, addExtension(element, bo, created, moddle));
    },
  });
}

function OperatorResult(props) {
  const { element, id } = props;
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  const operator = getOperator(getBusinessObject(element));
  return h(TextFieldEntry, {
    element, id, debounce, label: label('resultVariable', 'Result variable'),
    disabled: !operator,
    getValue: () => (operator && operator.get('resultVariable')) || '',
    setValue: (value) => {
      if (!operator) return;
      commandStack.execute(MULTI, [update(element, operator, { resultVariable: value || undefined })]);
    },
  });
}

function ParameterField(props) {
  const { element, id, parameter, field, text } = props;
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, debounce, label: text,
    getValue: () => parameter.get(field) || '',
    setValue: (value) => commandStack.execute(MULTI, [update(element, parameter, { [field]: value || '' })]),
  });
}

function CalledElementSelect(props) {
  const { element, id, items } = props;
  const modeling = useService('modeling');
  const current = () => getBusinessObject(element).get('calledElement') || '';
  return h(SelectEntry, {
    element, id, label: label('calledElement', 'Called process'),
    getValue: current,
    getOptions: () => options(items, current(), '—'),
    setValue: (value) => modeling.updateProperties(element, { calledElement: value || undefined }),
  });
}

function LaneRoleSelect(props) {
  const { element, id, items } = props;
  const modeling = useService('modeling');
  const current = () => getBusinessObject(element).get('name') || '';
  return h(SelectEntry, {
    element, id, label: label('laneRole', 'Role (lane name)'),
    description: label('laneRoleHint', 'The lane name is the role whose members do its tasks.'),
    getValue: current,
    getOptions: () => options(items, current(), '—'),
    setValue: (value) => modeling.updateProperties(element, { name: value || undefined }),
  });
}

function ConditionText(props) {
  const { element, id } = props;
  const commandStack = useService('commandStack');
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, debounce, rows: 2, monospace: true,
    label: label('condition', 'Condition (Python expression)'),
    getValue: () => {
      const expression = getBusinessObject(element).get('conditionExpression');
      return expression ? expression.get('body') || '' : '';
    },
    setValue: (value) => {
      const bo = getBusinessObject(element);
      const expression = bo.get('conditionExpression');
      if (!value || !value.trim()) {
        if (expression) modeling.updateProperties(element, { conditionExpression: undefined });
      } else if (expression) {
        commandStack.execute(MULTI, [update(element, expression, { body: value })]);
      } else {
        modeling.updateProperties(element, {
          conditionExpression: bpmnFactory.create('bpmn:FormalExpression', { body: value }),
        });
      }
    },
  });
}

function ScriptText(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, debounce, rows: 6, monospace: true,
    label: label('script', 'Script (Python)'),
    getValue: () => getBusinessObject(element).get('script') || '',
    setValue: (value) => modeling.updateProperties(element, { script: value || undefined }),
  });
}

// ---- groups -----------------------------------------------------------------------------------

function taskEntries(element, config) {
  const base = { element };
  return [
    { ...base, id: 'weijian-formKey', component: PropertySelect, isEdited: isSelectEntryEdited,
      name: 'formKey', text: label('formKey', 'Form'), items: config.forms || [] },
    { ...base, id: 'weijian-candidateRole', component: PropertySelect, isEdited: isSelectEntryEdited,
      name: 'candidateRole', text: label('candidateRole', 'Candidate role'), items: config.roles || [] },
    { ...base, id: 'weijian-dueDate', component: PropertyText, isEdited: isTextFieldEntryEdited,
      name: 'dueDate', text: label('dueDate', 'Due date expression'),
      description: label('pythonHint', 'Python expression') },
    { ...base, id: 'weijian-assignee', component: PropertyText, isEdited: isTextFieldEntryEdited,
      name: 'assignee', text: label('assignee', 'Assignee expression'),
      description: label('pythonHint', 'Python expression') },
  ];
}

function parameterGroup(element, injector) {
  const bo = getBusinessObject(element);
  const operator = getOperator(bo);
  const commandStack = injector.get('commandStack');
  const moddle = injector.get('moddle');
  const items = getParameters(bo).map((parameter, index) => {
    const id = `weijian-parameter-${index}`;
    return {
      id,
      label: parameter.get('id') || '…',
      autoFocusEntry: `${id}-id`,
      entries: [
        { id: `${id}-id`, element, parameter, field: 'id', text: label('parameterId', 'Name'), component: ParameterField },
        { id: `${id}-value`, element, parameter, field: 'value', text: label('parameterValue', 'Value (Python expression)'), component: ParameterField },
      ],
      remove: () => {
        const list = operator.get('parameterList');
        const rest = list.get('parameters').filter((p) => p !== parameter);
        commandStack.execute(MULTI, [rest.length
          ? update(element, list, { parameters: rest })
          : update(element, operator, { parameterList: undefined })]);
      },
    };
  });
  const add = operator ? (event) => {
    event.stopPropagation();
    const commands = [];
    let list = operator.get('parameterList');
    if (!list) {
      list = moddle.create('spiffworkflow:parameters', { parameters: [] });
      list.$parent = operator;
      commands.push(update(element, operator, { parameterList: list }));
    }
    const parameter = moddle.create('spiffworkflow:parameter', { id: '', type: 'any', value: '' });
    parameter.$parent = list;
    commands.push(update(element, list, { parameters: [...list.get('parameters'), parameter] }));
    commandStack.execute(MULTI, commands);
  } : undefined;
  return {
    id: 'weijian-parameters', label: label('parameters', 'Parameters'),
    component: ListGroup, items, add,
  };
}

export default class WeijianPropertiesProvider {
  constructor(propertiesPanel, injector, weijianConfig) {
    this._injector = injector;
    this._config = weijianConfig || {};
    propertiesPanel.registerProvider(500, this);
  }

  getGroups(element) {
    return (groups) => {
      const config = this._config;
      const entries = [];
      const extra = [];
      if (isAny(element, ['bpmn:UserTask', 'bpmn:ManualTask'])) {
        entries.push(...taskEntries(element, config));
      } else if (is(element, 'bpmn:ServiceTask')) {
        entries.push(
          { id: 'weijian-operator', element, component: OperatorSelect, isEdited: isSelectEntryEdited, items: config.operators || [] },
          { id: 'weijian-resultVariable', element, component: OperatorResult, isEdited: isTextFieldEntryEdited },
        );
        extra.push(parameterGroup(element, this._injector));
      } else if (is(element, 'bpmn:CallActivity')) {
        entries.push({ id: 'weijian-calledElement', element, component: CalledElementSelect, isEdited: isSelectEntryEdited, items: config.processes || [] });
      } else if (is(element, 'bpmn:Lane')) {
        entries.push({ id: 'weijian-laneRole', element, component: LaneRoleSelect, isEdited: isSelectEntryEdited, items: config.roles || [] });
      } else if (is(element, 'bpmn:SequenceFlow') && element.source
                 && isAny(element.source, ['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway', 'bpmn:Activity'])) {
        entries.push({ id: 'weijian-condition', element, component: ConditionText, isEdited: isTextAreaEntryEdited });
      } else if (is(element, 'bpmn:ScriptTask')) {
        entries.push({ id: 'weijian-script', element, component: ScriptText, isEdited: isTextAreaEntryEdited });
      }
      if (!entries.length) return groups;
      const group = { id: 'weijian', label: label('weijian', 'Weijian'), entries };
      const general = groups.findIndex((g) => g.id === 'general');
      groups.splice(general + 1, 0, group, ...extra);
      return groups;
    };
  }
}

WeijianPropertiesProvider.$inject = ['propertiesPanel', 'injector', 'weijianConfig'];
