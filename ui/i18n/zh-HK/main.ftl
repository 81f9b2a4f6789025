# 繁體中文（香港）：為港澳居民及習慣繁體字的市民而設。

window-title = 24小時政務自助服務

## Navigation
nav-back = 返回
nav-language = 語言
nav-cancel = 首頁
nav-step = 第 { $step } 步 / 共 { $count } 步

## Home
home-title = 24小時政務自助服務
home-subtitle = 身份證辦事、列印證明、查詢進度，全天可辦
home-elder = 長者模式
home-search = 搜尋事項
home-search-hint = 輸入事項名稱或拼音，如「社保」
home-for-persons = 個人辦事
home-for-businesses = 企業辦事
home-bundles = 一件事一次辦
home-popular = 熱門事項
home-check-status = 查詢我的辦件
matter-line = { $department } · { $kind }
matter-bundle-line = 一件事 · { $department }

## Search
search-title = 搜尋事項
search-none = 找不到相關事項，請換個說法，或到人工窗口查詢。

## Matter guide
guide-facts = 辦事指南
guide-department = 辦理部門
guide-kind = 辦理方式
guide-identity = 身份核驗
guide-legal-limit = 法定時限
guide-promised-limit = 承諾時限
guide-fee = 收費
guide-materials = 需要準備的材料
guide-no-materials = 無需準備材料。
guide-e-licence = 可用電子證照代替紙本材料
guide-situations = 請選擇您的情況
guide-start = 開始辦理
guide-choose-first = 請先在上方選擇您的情況

## ID card
card-title = 請放置證件
card-instruction = 請將證件平放在下方讀卡區，聽到提示音前不要移開。
card-waiting = 等待放置證件…
card-reading = 正在讀取，請不要移開證件…
card-read = 已讀取：{ $name }（{ $id }）
card-failed = 未能讀取證件，請拿起後重新放置。
card-retry = 重新讀取
card-staff-hint = 多次讀取失敗，可請工作人員協助。
staff-call = 呼叫工作人員

## Face
face-title = 請看向鏡頭
face-starting = 正在開啟鏡頭…
face-no-face = 沒有看到人臉，請站到螢幕正前方。
face-several = 畫面中有多於一人，請只留一人。
face-look = 請正視鏡頭。
face-closer = 請再靠近一點。
face-turn-left = 請慢慢向左轉頭。
face-turn-right = 請慢慢向右轉頭。
face-hold-still = 請保持不動…
face-matched = 核驗通過。
face-not-matched = 本次核驗未通過，請重試。
face-attempt = 第 { $attempt } 次，共 { $max } 次
face-alternative-hint = 人臉核驗多次未通過。您可以再試一次，或請工作人員在人工窗口為您辦理。
face-retry = 再試一次
face-alternative = 請工作人員協助

## Form
form-required = 必填
form-from-card = 來自證件
form-example = 例如：{ $example }
form-next = 下一步：核對資料

## Review
review-title = 請核對以下資料
review-edit = 修改
review-confirm = 確認提交

## Submitting
submit-saving = 正在提交…
submit-printing = 正在列印回條…
submit-wait = 請稍候，不要離開。
submit-failed-title = 尚未提交
submit-failed-full = 本機儲存空間已滿，您的申請未能保存。您填寫的內容都還在，請聯絡工作人員，或到人工窗口、其他自助機辦理。
submit-failed-read-only = 本機暫時無法保存申請，您的申請未提交。您填寫的內容都還在，請聯絡工作人員，或到人工窗口、其他自助機辦理。
submit-failed-busy = 本機正在保存其他申請，請稍候再次提交。
submit-failed-storage = 本機出現故障，您的申請未能保存。您填寫的內容都還在，請聯絡工作人員，或到人工窗口、其他自助機辦理。
submit-failed-flow = 本步驟出現問題，請核對資料後再次提交。
submit-failed-retry = 再次提交

## Receipt
receipt-title = 提交成功
receipt-printing = 正在列印回條…
receipt-printed = 請取走下方出紙口的回條。
receipt-on-screen = 打印機暫時無法列印。請用手機拍下二維碼，或記下受理編號。
receipt-qr = 回條二維碼
receipt-number = 受理編號
receipt-submitted-at = 提交時間
receipt-keep = 憑受理編號可隨時查詢辦理進度。
receipt-done = 完成

## Rating
rating-title = 服務評價
rating-question = 您對本次自助辦理滿意嗎？
rating-5 = 非常滿意
rating-4 = 滿意
rating-3 = 基本滿意
rating-2 = 不滿意
rating-1 = 非常不滿意
rating-thanks = 感謝您的評價！
rating-finish = 完成，返回首頁
rating-skip = 略過，返回首頁

## Status query
status-title = 查詢辦件進度
status-number = 受理編號
status-number-hint = 請輸入回條上的受理編號
status-query = 查詢
status-scan = 掃描回條二維碼
status-searching = 正在查詢…
status-scanning = 請將回條上的二維碼對準鏡頭。
status-scan-failed = 未能識別二維碼，請輸入回條上印的受理編號。
status-not-found = 找不到該編號的辦件，請核對後重試。
status-matter = 事項
status-updated-at = 更新時間

## Maintenance and errors
maintenance-title = 設備維護中
maintenance-body = 本機暫停服務，請到人工窗口辦理或使用其他自助機。
error-header = 暫時無法辦理
error-device-title = 設備暫時不可用
error-device-body = 本事項需要的設備暫時無法使用，請到人工窗口辦理，或使用其他自助機。
error-face-title = 人臉核驗暫不可用
error-face-body = 人臉比對暫時無法使用，請工作人員協助您辦理。
error-disk-title = 暫時無法受理
error-disk-body = 本機暫時不能接收新的申請，請到人工窗口辦理，或使用其他自助機。
error-home = 返回首頁

## Idle warning
idle-title = 您還在嗎？
idle-countdown-label = 剩餘秒數
idle-body = { $seconds } 秒後將返回首頁，並清除您填寫的所有資料。
idle-continue = 我還在，繼續辦理
idle-end = 結束並返回首頁

## On-screen keyboard
kb-title = 螢幕鍵盤
kb-composing = 拼音
kb-shift = 大寫
kb-backspace = 刪除
kb-mode-digits = 123
kb-mode-latin = 英文
kb-mode-pinyin = 拼音
kb-space = 空格
kb-done = 完成

## Labels the Rust side builds (kiosk::app) for the adapters' display-ready strings
kind-print = 列印
kind-query = 查詢
kind-apply = 申請
kind-appointment = 預約
identity-none = 無需證件
identity-card = 身份證件
identity-card-face = 身份證件 + 人臉
limit-working-days = { $days } 個工作日
limit-immediate = 即辦
fee-free = 免費
fee-amount = 人民幣 { $amount } 元
status-accepted = 已受理
status-in-review = 審核中
status-done = 已辦結
status-needs-action = 需補充材料
valid-required = 請填寫此項
valid-phone = 請輸入 11 位手機號碼
valid-id-number = 證件號碼不正確，請核對
valid-date = 請按 年-月-日 輸入，例如 2024-05-01
valid-number = 請輸入數字
valid-amount = 請輸入金額，最多兩位小數
valid-choice = 請選擇一項
form-summary-errors = 有 { $count } 項需要修改，請查看紅色提示。
valid-length = 長度不符合要求，請核對
valid-range = 數值超出允許範圍
status-queued = 已提交，正在發送至辦理部門
receipt-step-keep = 請妥善保管本回執，憑受理編號查詢辦理進度
receipt-step-promise = 承諾辦結時限：{ $limit }
sim-title = 示範：模擬設備
sim-reader = 讀卡器
sim-remove-card = 取走身份證
sim-camera = 攝像頭看到
sim-camera-holder = 持證人本人
sim-camera-other = 其他人
sim-camera-nobody = 無人
sim-camera-receipt = 舉起的最新回條
sim-network = 網絡
sim-cut-network = 斷開網絡
sim-printer = 打印機
sim-paper-out = 缺紙
sim-receipts = 打印的回執保存為 PNG：{ $dir }
staff-corner = 工作人員入口
staff-title = 設備診斷
staff-pin = 工作人員密碼
staff-enter = 進入
staff-wrong-pin = 密碼錯誤，再錯 { $left } 次將鎖定。
staff-locked = 密碼錯誤次數過多，已鎖定，請於 { $until } 後重試。
staff-no-pin = 未設置工作人員密碼（kiosk staff set-pin）。
staff-devices = 設備
staff-facts = 本機
staff-test-print = 測試打印
staff-test-card = 測試讀卡
staff-sync-now = 立即同步
staff-retry = 重試隔離的提交
staff-restart = 重啟設備
staff-maintenance = 維護模式
staff-leave = 退出
staff-done = 完成：{ $what }
staff-failed = 失敗：{ $what }
staff-card-wait = 請在讀卡器上放置證件。
staff-card-result = 證件類型：{ $type }；校驗碼{ $valid }。
staff-check-ok = 正確
staff-check-bad = 錯誤
staff-outbox = 待發送隊列
staff-quarantined = 已隔離
staff-sync = 同步
staff-catalog = 事項目錄
staff-network = 網絡
staff-disk = 磁碟
staff-version = 版本 · 運行時間
staff-warning = 警告
staff-export = 匯出隔離的提交
staff-exported = 已匯出 { $count } 條隔離的提交：{ $dir } 中的 { $file }。
staff-restart-printer = 重啟打印機
staff-restart-reader = 重啟讀卡器
staff-restart-camera = 重啟鏡頭
staff-restarting = 正在重啟 { $device }…
staff-camera-preview = 鏡頭預覽
staff-preview-starting = 正在開啟鏡頭…
staff-preview-no-camera = 未設定鏡頭。
staff-preview-no-face = 畫面中沒有人臉
staff-preview-faces = 畫面中有 { $n } 張人臉
staff-preview-failed = 鏡頭已停止：{ $error }
