;;;; Deferred replies: handlers that return at once and answer later from
;;;; other Lisp threads.

(in-package #:c10k/tests)

(in-suite c10k)

(defun make-mailbox ()
  (list (bt:make-lock) (bt:make-condition-variable) nil))

(defun mailbox-put (mailbox item)
  (destructuring-bind (lock cv &rest items) mailbox
    (declare (ignore items))
    (bt:with-lock-held (lock)
      (push item (third mailbox))
      (bt:condition-notify cv))))

(defun mailbox-take (mailbox &optional (seconds 60))
  "The oldest item of MAILBOX, waiting for one up to SECONDS (then :TIMEOUT).
Polls: a timed CONDITION-WAIT may return without the lock."
  (let ((deadline (+ (get-internal-real-time) (* seconds internal-time-units-per-second)))
        (lock (first mailbox)))
    (loop (bt:with-lock-held (lock)
            (when (third mailbox) (return (pop (third mailbox)))))
          (when (> (get-internal-real-time) deadline) (return :timeout))
          (sleep 0.005))))

(test deferred-reply-from-another-thread
  (let* ((mailbox (make-mailbox))
         (worker (bt:make-thread
                  (lambda ()
                    (loop for reply = (mailbox-take mailbox)
                          until (eq reply :quit)
                          do (c10k:send-reply
                              reply 200 '(("content-type" . "text/plain"))
                              (format nil "later: ~A ~A on ~A"
                                      (c10k:request-path (c10k:reply-request reply))
                                      (c10k:request-body-string (c10k:reply-request reply))
                                      (bt:thread-name (bt:current-thread))))))
                  :name "replier")))
    (unwind-protect
         (with-http-server (server (lambda (request)
                                     (mailbox-put mailbox (c10k:defer-reply request))
                                     (values 500 nil "ignored: the reply was deferred")))
           (let ((port (c10k:server-port server)))
             (multiple-value-bind (status headers body) (http port "POST" "/slow" :body "x")
               (declare (ignore headers))
               (is (= 200 status))
               (is (string= "later: /slow x on replier" body)))))
      (mailbox-put mailbox :quit)
      (bt:join-thread worker))))

(test many-pending-replies-completed-together
  (let* ((lock (bt:make-lock))
         (pending '())
         (count 50))
    (with-http-server (server (lambda (request)
                                (let ((reply (c10k:defer-reply request)))
                                  (bt:with-lock-held (lock) (push reply pending)))
                                nil))
      (let* ((port (c10k:server-port server))
             (results (make-array count :initial-element nil))
             (clients (loop for i below count
                            collect (let ((i i))
                                      (bt:make-thread
                                       (lambda ()
                                         (setf (aref results i)
                                               (nth-value 2 (http port "GET" (format nil "/~D" i))))))))))
        (loop until (bt:with-lock-held (lock) (= count (length pending)))
              do (sleep 0.01))
        (bt:join-thread
         (bt:make-thread (lambda ()
                           (dolist (reply (bt:with-lock-held (lock) pending))
                             (c10k:send-reply reply 200 nil (c10k:request-path
                                                             (c10k:reply-request reply)))))))
        (mapc #'bt:join-thread clients)
        (is (every (lambda (i) (equal (format nil "/~D" i) (aref results i)))
                   (alexandria:iota count)))))))

(test reply-to-a-client-that-left
  ;; The client's FIN aborts its pending reply at once (as nginx does), with
  ;; the default keep-alive timeout of 60 s: the abort must come well before.
  (let ((mailbox (make-mailbox))
        (aborted (make-mailbox)))
    (with-http-server (server (lambda (request)
                                (mailbox-put mailbox (c10k:defer-reply request))
                                nil)
                              :on-abort (lambda (reply) (mailbox-put aborted reply)))
      (multiple-value-bind (stream socket) (connect (c10k:server-port server))
        (write-sequence (octets (format nil "GET /gone HTTP/1.1~C~CHost: t~C~C~C~C"
                                        #\Return #\Newline #\Return #\Newline
                                        #\Return #\Newline))
                        stream)
        (finish-output stream)
        (let ((reply (mailbox-take mailbox))
              (closed-at (get-internal-real-time)))
          (sb-bsd-sockets:socket-close socket)
          (is (eq reply (mailbox-take aborted)))
          (let ((seconds (/ (- (get-internal-real-time) closed-at)
                            internal-time-units-per-second)))
            (is (< seconds 2) "on-abort came ~,2F s after the client closed" seconds))
          (is (c10k:reply-aborted-p reply))
          (is (null (c10k:send-reply reply 200 nil "too late"))))))))
