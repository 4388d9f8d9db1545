# language: zh-CN
功能: 抽取权重来自检查对象的风险台账等级、信用等级和近12个月的投诉举报（国办发〔2015〕58号）
  对投诉举报多、有不良记录的检查对象加大抽查力度：每家单位在抽取快照中的权重是
  rules.toml [weights] 中风险等级、信用等级、投诉数三项倍数之积；投诉数是抽取日前
  complaints_months 个月内收到的、以该单位为被投诉对象的投诉举报数，与导入的投诉数取较大者。

  背景:
    假如 今天是"2025-09-01"
    而且 检查人员"officer2,officer3,officer4,officer5"具备"public_place"专业
    而且 年度抽查频次上限为10次

  场景: 风险台账等级、信用等级、导入的投诉数各自提高快照中的权重
    假如 名录库中有4家"public_place"单位
    而且 第2家的风险台账有一条"high"条目
    而且 第3家的信用等级为"D"
    而且 第4家导入的投诉数达到规则的投诉数阈值
    当 按计划抽取
    那么 快照中第1家的权重等于规则"risk_normal,credit_none"之积
    而且 快照中第2家的权重等于规则"risk_high,credit_none"之积
    而且 快照中第3家的权重等于规则"risk_normal,credit_d"之积
    而且 快照中第4家的权重等于规则"risk_normal,credit_none,complaints_factor"之积
    而且 复核抽取结果完全一致

  场景: 公众就一家单位投诉举报后，下一次抽取中它的权重提高
    假如 名录库中有2家"public_place"单位
    当 按计划抽取
    那么 快照中第1家的权重等于规则"risk_normal,credit_none"之积
    当 公众就第1家提交达到规则投诉数阈值的投诉举报
    而且 按计划抽取
    那么 快照中第1家的权重等于规则"risk_normal,credit_none,complaints_factor"之积
    而且 快照中第2家的权重等于规则"risk_normal,credit_none"之积
    而且 复核抽取结果完全一致

  场景: 统计期以前收到的投诉举报不计入权重
    假如 今天是"2024-08-01"
    而且 名录库中有1家"public_place"单位
    而且 公众就第1家提交达到规则投诉数阈值的投诉举报
    当 今天是"2025-09-01"
    而且 按计划抽取
    那么 快照中第1家的权重等于规则"risk_normal,credit_none"之积
