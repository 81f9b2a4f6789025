# 简体中文（默认）。Keys used by the .slint files and by kiosk::app; every locale has them all.

window-title = 24小时政务自助服务

## Navigation
nav-back = 返回
nav-language = 语言
nav-cancel = 首页
nav-step = 第 { $step } 步 / 共 { $count } 步

## Home
home-title = 24小时政务自助服务
home-subtitle = 身份证办事、打印证明、查询进度，全天可办
home-elder = 长者模式
home-search = 搜索事项
home-search-hint = 输入事项名称或拼音，如“社保”
home-for-persons = 个人办事
home-for-businesses = 企业办事
home-bundles = 一件事一次办
home-popular = 热门事项
home-check-status = 查询我的办件
matter-line = { $department } · { $kind }
matter-bundle-line = 一件事 · { $department }

## Search
search-title = 搜索事项
search-none = 没有找到相关事项，请换个说法，或到人工窗口咨询。

## Matter guide
guide-facts = 办事指南
guide-department = 办理部门
guide-kind = 办理方式
guide-identity = 身份核验
guide-legal-limit = 法定时限
guide-promised-limit = 承诺时限
guide-fee = 收费
guide-materials = 需要准备的材料
guide-no-materials = 无需准备材料。
guide-e-licence = 可用电子证照代替纸质材料
guide-situations = 请选择您的情况
guide-start = 开始办理
guide-choose-first = 请先在上方选择您的情况

## ID card
card-title = 请放置身份证
card-instruction = 请将第二代居民身份证平放在下方读卡区，听到提示音前不要移开。
card-waiting = 等待放置身份证…
card-reading = 正在读取，请不要移开证件…
card-read = 已读取：{ $name }（{ $id }）
card-failed = 未能读取证件，请拿起后重新放置。
card-retry = 重新读取
card-staff-hint = 多次读取失败，可请工作人员协助。
staff-call = 呼叫工作人员

## Face
face-title = 请看向摄像头
face-starting = 正在打开摄像头…
face-no-face = 没有看到人脸，请站到屏幕正前方。
face-several = 画面中有多个人，请只留一人。
face-look = 请正视摄像头。
face-closer = 请再靠近一点。
face-turn-left = 请慢慢向左转头。
face-turn-right = 请慢慢向右转头。
face-hold-still = 请保持不动…
face-matched = 核验通过。
face-not-matched = 本次核验未通过，请重试。
face-attempt = 第 { $attempt } 次，共 { $max } 次
face-alternative-hint = 人脸核验多次未通过。您可以再试一次，或请工作人员在人工窗口为您办理。
face-retry = 再试一次
face-alternative = 请工作人员协助

## Form
form-required = 必填
form-from-card = 来自身份证
form-example = 例如：{ $example }
form-next = 下一步：核对信息

## Review
review-title = 请核对以下信息
review-edit = 修改
review-confirm = 确认提交

## Submitting
submit-saving = 正在提交…
submit-printing = 正在打印回执…
submit-wait = 请稍候，不要离开。
submit-failed-title = 尚未提交
submit-failed-full = 本机存储空间已满，您的申请未能保存。您填写的内容都还在，请联系工作人员，或到人工窗口、其他自助机办理。
submit-failed-read-only = 本机暂时无法保存申请，您的申请未提交。您填写的内容都还在，请联系工作人员，或到人工窗口、其他自助机办理。
submit-failed-busy = 本机正在保存其他申请，请稍候再次提交。
submit-failed-storage = 本机出现故障，您的申请未能保存。您填写的内容都还在，请联系工作人员，或到人工窗口、其他自助机办理。
submit-failed-flow = 本步骤出现问题，请核对信息后再次提交。
submit-failed-retry = 再次提交

## Receipt
receipt-title = 提交成功
receipt-printing = 正在打印回执…
receipt-printed = 请取走下方出纸口的回执。
receipt-on-screen = 打印机暂时无法打印。请用手机拍下二维码，或记下受理编号。
receipt-qr = 回执二维码
receipt-number = 受理编号
receipt-submitted-at = 提交时间
receipt-keep = 凭受理编号可随时查询办理进度。
receipt-done = 完成

## Rating
rating-title = 服务评价
rating-question = 您对本次自助办理满意吗？
rating-5 = 非常满意
rating-4 = 满意
rating-3 = 基本满意
rating-2 = 不满意
rating-1 = 非常不满意
rating-thanks = 感谢您的评价！
rating-finish = 完成，返回首页
rating-skip = 跳过，返回首页

## Status query
status-title = 查询办件进度
status-number = 受理编号
status-number-hint = 请输入回执上的受理编号
status-query = 查询
status-scan = 扫描回执二维码
status-searching = 正在查询…
status-scanning = 请将回执上的二维码对准摄像头。
status-scan-failed = 未能识别二维码，请输入回执上印的受理编号。
status-not-found = 没有找到该编号的办件，请核对后重试。
status-matter = 事项
status-updated-at = 更新时间

## Maintenance and errors
maintenance-title = 设备维护中
maintenance-body = 本机暂停服务，请到人工窗口办理或使用其他自助机。
error-header = 暂时无法办理
error-device-title = 设备暂时不可用
error-device-body = 本事项需要的设备暂时无法使用，请到人工窗口办理，或使用其他自助机。
error-face-title = 人脸核验暂不可用
error-face-body = 人脸比对暂时无法使用，请工作人员协助您办理。
error-disk-title = 暂时无法受理
error-disk-body = 本机暂时不能接收新的申请，请到人工窗口办理，或使用其他自助机。
error-home = 返回首页

## Idle warning
idle-title = 您还在吗？
idle-countdown-label = 剩余秒数
idle-body = { $seconds } 秒后将返回首页，并清除您填写的所有信息。
idle-continue = 我还在，继续办理
idle-end = 结束并返回首页

## On-screen keyboard
kb-title = 屏幕键盘
kb-composing = 拼音
kb-shift = 大写
kb-backspace = 删除
kb-mode-digits = 123
kb-mode-latin = 英文
kb-mode-pinyin = 拼音
kb-space = 空格
kb-done = 完成

## Labels the Rust side builds (kiosk::app) for the adapters' display-ready strings
kind-print = 打印
kind-query = 查询
kind-apply = 申请
kind-appointment = 预约
identity-none = 无需证件
identity-card = 身份证
identity-card-face = 身份证 + 人脸
limit-working-days = { $days } 个工作日
limit-immediate = 即办
fee-free = 免费
fee-amount = { $amount } 元
status-accepted = 已受理
status-in-review = 审核中
status-done = 已办结
status-needs-action = 需补充材料
valid-required = 请填写此项
valid-phone = 请输入 11 位手机号码
valid-id-number = 身份证号码不正确，请核对
valid-date = 请按 年-月-日 输入，例如 2024-05-01
valid-number = 请输入数字
valid-amount = 请输入金额，最多两位小数
valid-choice = 请选择一项
form-summary-errors = 有 { $count } 项需要修改，请查看红色提示。
valid-length = 长度不符合要求，请核对
valid-range = 数值超出允许范围
status-queued = 已提交，正在发送至办理部门
receipt-step-keep = 请妥善保管本回执，凭受理编号查询办理进度
receipt-step-promise = 承诺办结时限：{ $limit }
sim-title = 演示：模拟设备
sim-reader = 读卡器
sim-remove-card = 取走身份证
sim-camera = 摄像头看到
sim-camera-holder = 持证人本人
sim-camera-other = 其他人
sim-camera-nobody = 无人
sim-camera-receipt = 举起的最新回执
sim-network = 网络
sim-cut-network = 断开网络
sim-printer = 打印机
sim-paper-out = 缺纸
sim-receipts = 打印的回执保存为 PNG：{ $dir }
staff-corner = 工作人员入口
staff-title = 设备诊断
staff-pin = 工作人员密码
staff-enter = 进入
staff-wrong-pin = 密码错误，再错 { $left } 次将锁定。
staff-locked = 密码错误次数过多，已锁定，请于 { $until } 后重试。
staff-no-pin = 未设置工作人员密码（kiosk staff set-pin）。
staff-devices = 设备
staff-facts = 本机
staff-test-print = 测试打印
staff-test-card = 测试读卡
staff-sync-now = 立即同步
staff-retry = 重试隔离的提交
staff-restart = 重启设备
staff-maintenance = 维护模式
staff-leave = 退出
staff-done = 完成：{ $what }
staff-failed = 失败：{ $what }
staff-card-wait = 请在读卡器上放置证件。
staff-card-result = 证件类型：{ $type }；校验码{ $valid }。
staff-check-ok = 正确
staff-check-bad = 错误
staff-outbox = 待发送队列
staff-quarantined = 已隔离
staff-sync = 同步
staff-catalog = 事项目录
staff-network = 网络
staff-disk = 磁盘
staff-version = 版本 · 运行时间
staff-warning = 警告
staff-export = 导出隔离的提交
staff-exported = 已导出 { $count } 条隔离的提交：{ $dir } 中的 { $file }。
staff-restart-printer = 重启打印机
staff-restart-reader = 重启读卡器
staff-restart-camera = 重启摄像头
staff-restarting = 正在重启 { $device }…
staff-camera-preview = 摄像头预览
staff-preview-starting = 正在打开摄像头…
staff-preview-no-camera = 未配置摄像头。
staff-preview-no-face = 画面中没有人脸
staff-preview-faces = 画面中有 { $n } 张人脸
staff-preview-failed = 摄像头已停止：{ $error }
