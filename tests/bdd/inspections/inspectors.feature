# language: zh-CN
功能: 随机匹配检查人员（至少两人，专业与执法证，回避，负载均衡）
  每个检查对象至少两名检查人员，其中至少一名持有效执法证并具备该专业；有利害关系的、
  近期检查过该单位的和近期搭档过的不抽；声明有利害关系的另行抽取并记录。

  背景:
    假如 今天是"2025-09-01"

  场景: 至少一名检查人员具备该专业
    假如 名录库中有40家"public_place"单位
    而且 检查人员"officer2"具备"public_place"专业
    而且 检查人员"officer3,officer4,officer5"具备"medical"专业
    当 按每类抽取3家的计划抽取
    那么 每家单位的检查人员中有"officer2"

  场景: 执法证过期的人员不参与抽取
    假如 名录库中有40家"public_place"单位
    而且 检查人员"officer2,officer3,officer4"具备"public_place"专业
    而且 检查人员"officer5"的执法证"2025-10-31"到期
    当 按每类抽取6家的计划抽取
    那么 没有单位由"officer5"检查

  场景: 亲属在被检查单位任职的人员不检查该单位
    假如 名录库中有3家"public_place"单位
    而且 检查人员"officer2,officer3,officer4"具备"public_place"专业
    而且 检查人员"officer5"的亲属在第1家单位任职
    当 按每类抽取3家的计划抽取
    那么 第1家单位不由"officer5"检查

  场景: 曾在被检查单位任职的人员不检查该单位
    假如 名录库中有3家"public_place"单位
    而且 检查人员"officer2,officer3,officer4"具备"public_place"专业
    而且 检查人员"officer5"曾在第2家单位任职
    当 按每类抽取3家的计划抽取
    那么 第2家单位不由"officer5"检查

  场景: 休假的人员不参与抽取
    假如 名录库中有40家"public_place"单位
    而且 检查人员"officer2,officer3,officer4,officer5"具备"public_place"专业
    而且 检查人员"officer5"在"2025-08-25"至"2025-09-10"休假
    当 按每类抽取6家的计划抽取
    那么 没有单位由"officer5"检查

  场景: 人员不足时不强行匹配，登记待处理
    假如 名录库中有10家"public_place"单位
    而且 检查人员"officer2"具备"public_place"专业
    当 按每类抽取2家的计划抽取
    那么 2家单位登记为检查人员不足

  场景: 检查任务在检查人员之间均衡分配
    假如 名录库中有10家"public_place"单位
    而且 检查人员"officer2,officer3,officer4,officer5"具备"public_place"专业
    当 按每类抽取10家的计划抽取
    那么 每名检查人员检查5家单位

  场景: 近期检查过该单位的人员和搭档不再抽中
    假如 名录库中有4家"public_place"单位
    而且 检查人员"officer2,officer3,officer4,officer5,officer6,officer7"具备"public_place"专业
    当 按每类抽取4家的计划抽取
    而且 按每类抽取4家的计划再次抽取
    那么 第二次每家单位的检查人员都不是第一次检查该单位的人员
    而且 第二次没有第一次出现过的搭档

  场景: 声明有利害关系的，另行随机抽取并记录，抽取仍可复核
    假如 名录库中有40家"public_place"单位
    而且 检查人员"officer2,officer3,officer4,officer5"具备"public_place"专业
    当 按每类抽取1家的计划抽取
    而且 第一名检查人员声明有利害关系
    那么 另行抽取了一名检查人员并记录了替换
    而且 新的检查人员收到声明任务
    而且 复核抽取结果完全一致
