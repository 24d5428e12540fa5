;;;; The test suite of the c10k binding, and its entry point.

(defpackage #:c10k/tests
  (:use #:cl #:fiveam)
  (:export #:run-tests))

(in-package #:c10k/tests)

(def-suite c10k :description "The c10k binding over real sockets on 127.0.0.1.")

(defun run-tests ()
  "Runs the suite, prints \"N passed, M failed\" (tests, not checks) last,
and returns true when nothing failed."
  (let* ((results (run 'c10k))
         (tests (remove-duplicates (mapcar #'it.bese.fiveam::test-case results)))
         (failed (remove-duplicates
                  (mapcar #'it.bese.fiveam::test-case
                          (remove-if (lambda (r) (typep r 'it.bese.fiveam::test-passed)) results)))))
    (explain! results)
    (format t "~&~D passed, ~D failed~%" (- (length tests) (length failed)) (length failed))
    (finish-output)
    (null failed)))
