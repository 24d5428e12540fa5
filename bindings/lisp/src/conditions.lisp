;;;; Errors from the C library as Lisp conditions, and the reporting of
;;;; conditions that handlers signal.

(in-package #:c10k)

(define-condition c10k-error (error)
  ((code :initarg :code :reader c10k-error-code
         :documentation "The negative C10K_E* code.")
   (operation :initarg :operation :initform nil :reader c10k-error-operation))
  (:report (lambda (c stream)
             (format stream "~@[~A: ~]~A (~A)" (c10k-error-operation c)
                     (c10k-strerror (c10k-error-code c)) (c10k-error-name c))))
  (:documentation "A C10K_E* error code returned by libc10k."))

(defun c10k-error-name (condition)
  "The symbolic name of CONDITION's code, e.g. \"C10K_EADDRINUSE\"."
  (c10k-err-name (c10k-error-code condition)))

(declaim (inline check))
(defun check (code operation)
  "Returns CODE when it is not an error, else signals C10K-ERROR."
  (if (minusp code)
      (error 'c10k-error :code code :operation operation)
      code))

(defun error-keyword (code)
  "C10K_ECONNRESET -> :ECONNRESET; NIL for 0."
  (unless (zerop code)
    (let ((name (c10k-err-name code)))
      (intern (subseq name (min (length name) 5)) :keyword))))

(defvar *report-stream* *error-output*
  "Where conditions signalled in handlers are reported: the *ERROR-OUTPUT* in
effect when the server started, bound on its loop thread.")

(defun report (condition context &rest arguments)
  "Writes CONDITION with a line of context to *REPORT-STREAM*. Never signals:
reporting runs inside callbacks, where nothing may unwind."
  (ignore-errors
   (format *report-stream* "~&c10k: ~?: ~A~%" context arguments condition)
   (finish-output *report-stream*)))

(defparameter *backtrace-frames* 60
  "How many frames a backtrace of a failed handler shows.")

(defun backtrace-text (condition)
  "CONDITION and the backtrace of the current thread as text: call it
where CONDITION is signalled (in HANDLER-BIND), before the stack unwinds."
  (ignore-errors
   (with-output-to-string (out)
     (format out "~A~2%Backtrace:~%" condition)
     (let ((sb-debug:*debug-print-variable-alist*
             (list* '(*print-length* . 8) '(*print-level* . 3)
                    sb-debug:*debug-print-variable-alist*)))
       (sb-debug:print-backtrace :stream out :count *backtrace-frames*)))))

(defun report-text (text context &rest arguments)
  "Writes TEXT (a condition with its backtrace) with a line of context to
*REPORT-STREAM*. Never signals."
  (ignore-errors
   (format *report-stream* "~&c10k: ~?: ~A~%" context arguments text)
   (finish-output *report-stream*)))

(defun call-capturing-backtrace (function)
  "Calls FUNCTION and returns its first value; if it signals a serious
condition, returns NIL and, second, the condition and its backtrace as text."
  (let ((failure nil))
    (block call
      (handler-bind ((serious-condition
                       (lambda (condition)
                         (setf failure (backtrace-text condition))
                         (return-from call))))
        (return-from call-capturing-backtrace (funcall function))))
    (values nil (or failure "(no backtrace)"))))
