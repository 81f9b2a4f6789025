# English (United States). Complete: every key of zh-CN.

window-title = 24-hour self-service

## Navigation
nav-back = Back
nav-language = Language
nav-cancel = Home
nav-step = Step { $step } of { $count }

## Home
home-title = 24-hour government self-service
home-subtitle = Use your ID card, print certificates and check progress, any time of day
home-elder = Large text
home-search = Search matters
home-search-hint = Type a matter's name, e.g. "social insurance"
home-for-persons = For persons
home-for-businesses = For businesses
home-bundles = One thing, one visit
home-popular = Popular matters
home-check-status = Check my submission
matter-line = { $department } · { $kind }
matter-bundle-line = One thing · { $department }

## Search
search-title = Search matters
search-none = Nothing found. Try other words, or ask at a staffed counter.

## Matter guide
guide-facts = Guide
guide-department = Department
guide-kind = How it is done
guide-identity = Identity check
guide-legal-limit = Legal time limit
guide-promised-limit = Promised time limit
guide-fee = Fee
guide-materials = What you need
guide-no-materials = Nothing to bring.
guide-e-licence = An electronic licence can replace the paper
guide-situations = Choose your situation
guide-start = Start
guide-choose-first = Choose your situation above first

## ID card
card-title = Place your ID card
card-instruction = Lay your resident ID card flat on the reader below and leave it there until you hear the tone.
card-waiting = Waiting for your ID card…
card-reading = Reading, please do not move the card…
card-read = Read: { $name } ({ $id })
card-failed = The card could not be read. Lift it and place it again.
card-retry = Read again
card-staff-hint = Reading failed several times. Staff can help you.
staff-call = Call staff

## Face
face-title = Look at the camera
face-starting = Starting the camera…
face-no-face = No face seen. Please stand right in front of the screen.
face-several = More than one person is in view. Only one person, please.
face-look = Please look straight at the camera.
face-closer = Please come a little closer.
face-turn-left = Slowly turn your head to the left.
face-turn-right = Slowly turn your head to the right.
face-hold-still = Hold still…
face-matched = Verified.
face-not-matched = That did not match. Please try again.
face-attempt = Attempt { $attempt } of { $max }
face-alternative-hint = Face verification failed several times. You can try once more, or staff can do this for you at a counter.
face-retry = Try again
face-alternative = Ask staff for help

## Form
form-required = Required
form-from-card = From ID card
form-example = Example: { $example }
form-next = Next: check your answers

## Review
review-title = Please check your answers
review-edit = Change
review-confirm = Confirm and submit

## Submitting
submit-saving = Submitting…
submit-printing = Printing your receipt…
submit-wait = Please wait and do not leave.
submit-failed-title = Not submitted yet
submit-failed-full = This kiosk's storage is full, so your application could not be saved. Everything you entered is kept. Please ask staff for help, or use a staffed counter or another kiosk.
submit-failed-read-only = This kiosk cannot save applications at the moment, so yours was not submitted. Everything you entered is kept. Please ask staff for help, or use a staffed counter or another kiosk.
submit-failed-busy = This kiosk is busy saving another application. Please wait a moment and submit again.
submit-failed-storage = A fault on this kiosk stopped your application from being saved. Everything you entered is kept. Please ask staff for help, or use a staffed counter or another kiosk.
submit-failed-flow = Something went wrong at this step. Please check your answers and submit again.
submit-failed-retry = Submit again

## Receipt
receipt-title = Submitted
receipt-printing = Printing your receipt…
receipt-printed = Please take your receipt from the slot below.
receipt-on-screen = The printer cannot print right now. Take a photo of the QR code or write down the receipt number.
receipt-qr = Receipt QR code
receipt-number = Receipt number
receipt-submitted-at = Submitted at
receipt-keep = With the receipt number you can check progress at any time.
receipt-done = Done

## Rating
rating-title = Rate this service
rating-question = How satisfied are you with this visit?
rating-5 = Very satisfied
rating-4 = Satisfied
rating-3 = Fairly satisfied
rating-2 = Dissatisfied
rating-1 = Very dissatisfied
rating-thanks = Thank you for your rating!
rating-finish = Finish
rating-skip = Skip

## Status query
status-title = Check my submission
status-number = Receipt number
status-number-hint = Type the number printed on your receipt
status-query = Check
status-scan = Scan the receipt QR code
status-searching = Checking…
status-scanning = Hold the QR code on your receipt up to the camera.
status-scan-failed = The QR code could not be read. Please type the receipt number printed under it.
status-not-found = No submission has this number. Please check it and try again.
status-matter = Matter
status-updated-at = Last update

## Maintenance and errors
maintenance-title = Under maintenance
maintenance-body = This kiosk is paused. Please use a staffed counter or another kiosk.
error-header = Cannot continue
error-device-title = A device is not available
error-device-body = A device this matter needs is not working right now. Please use a staffed counter or another kiosk.
error-face-title = Face check unavailable
error-face-body = Face matching is unavailable right now. Staff will help you.
error-disk-title = Cannot accept submissions now
error-disk-body = This kiosk cannot take new submissions at the moment. Please use a staffed counter or another kiosk.
error-home = Back to Home

## Idle warning
idle-title = Are you still there?
idle-countdown-label = Seconds left
idle-body = In { $seconds } seconds this kiosk returns to Home and clears everything you entered.
idle-continue = I'm here, continue
idle-end = End and go Home

## On-screen keyboard
kb-title = On-screen keyboard
kb-composing = Pinyin
kb-shift = Shift
kb-backspace = Delete
kb-mode-digits = 123
kb-mode-latin = ABC
kb-mode-pinyin = Pinyin
kb-space = Space
kb-done = Done

## Labels the Rust side builds (kiosk::app) for the adapters' display-ready strings
kind-print = Print
kind-query = Query
kind-apply = Apply
kind-appointment = Appointment
identity-none = No ID needed
identity-card = ID card
identity-card-face = ID card and face
limit-working-days = { $days ->
    [one] { $days } working day
   *[other] { $days } working days
}
limit-immediate = On the spot
fee-free = Free
fee-amount = CNY { $amount }
status-accepted = Accepted
status-in-review = In review
status-done = Completed
status-needs-action = More documents needed
valid-required = Please fill this in
valid-phone = Enter an 11-digit mobile number
valid-id-number = This ID number is not valid, please check it
valid-date = Enter the date as year-month-day, e.g. 2024-05-01
valid-number = Enter a number
valid-amount = Enter an amount with at most two decimals
valid-choice = Choose one
form-summary-errors = { $count ->
    [one] One answer needs a change; see the red message.
   *[other] { $count } answers need a change; see the red messages.
}
valid-length = The length is not right, please check it
valid-range = This value is outside the allowed range
status-queued = Submitted; on its way to the department
receipt-step-keep = Keep this receipt; its number lets you check progress
receipt-step-promise = Promised time limit: { $limit }
sim-title = Demo: simulated devices
sim-reader = Card reader
sim-remove-card = Take the card off
sim-camera = The camera sees
sim-camera-holder = The card holder
sim-camera-other = Someone else
sim-camera-nobody = Nobody
sim-camera-receipt = The last receipt, held up
sim-network = Network
sim-cut-network = Cut the network
sim-printer = Printer
sim-paper-out = Out of paper
sim-receipts = Printed receipts are saved as PNG in { $dir }
staff-corner = Staff entrance
staff-title = Diagnostics
staff-pin = Staff PIN
staff-enter = Enter
staff-wrong-pin = Wrong PIN. { $left } tries left before the screen locks.
staff-locked = Locked after too many wrong PINs. Try again after { $until }.
staff-no-pin = No staff PIN is configured (kiosk staff set-pin).
staff-devices = Devices
staff-facts = Kiosk
staff-test-print = Test print
staff-test-card = Test card read
staff-sync-now = Sync now
staff-retry = Retry quarantined
staff-restart = Restart device
staff-maintenance = Maintenance mode
staff-leave = Leave
staff-done = Done: { $what }
staff-failed = Failed: { $what }
staff-card-wait = Put a card on the reader.
staff-card-result = Card type: { $type }; check digit { $valid }.
staff-check-ok = valid
staff-check-bad = NOT valid
staff-outbox = Outbox
staff-quarantined = Quarantined
staff-sync = Sync
staff-catalog = Catalog
staff-network = Network
staff-disk = Disk
staff-version = Version · uptime
staff-warning = Warning
staff-export = Export quarantined
staff-exported = Exported { $count } quarantined item(s) to { $file } in { $dir }.
staff-restart-printer = Restart printer
staff-restart-reader = Restart card reader
staff-restart-camera = Restart camera
staff-restarting = Restarting { $device }…
staff-camera-preview = Camera preview
staff-preview-starting = Starting the camera…
staff-preview-no-camera = No camera is configured.
staff-preview-no-face = No face in view
staff-preview-faces = { $n ->
    [one] 1 face in view
   *[other] { $n } faces in view
}
staff-preview-failed = The camera stopped: { $error }
