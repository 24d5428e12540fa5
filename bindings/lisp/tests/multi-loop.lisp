;;;; Multi-loop servers (:LOOPS): handlers on the library's threads, the
;;;; kernel spreading clients over the loops, and their counters.

(in-package #:c10k/tests)

(in-suite c10k)

(defun plist-sum (key plists)
  (reduce #'+ plists :key (lambda (plist) (getf plist key))))

(test thousand-clients-over-two-loops
  (let ((server (c10k:start-http-server :port 0 :loops 2 :handler #'hello-handler)))
    (unwind-protect
         (multiple-value-bind (output code)
             (run-python "concurrent_clients.py" (princ-to-string (c10k:server-port server)) "1000")
           (is (zerop code))
           (is (search "1000 ok" output) "python3 said: ~A" output)
           (multiple-value-bind (total loops) (c10k:server-stats server)
             (is (= 2 (length loops)))
             (is (<= 1000 (getf total :accepted)))
             (is (<= 2000 (getf total :requests)))
             (is (<= 2000 (getf total :responses-2xx)))
             (dolist (key '(:accepted :closed :requests :responses-2xx :bytes-in :bytes-out))
               (is (= (getf total key) (plist-sum key loops))
                   "~S: total ~D, loops ~S" key (getf total key) (mapcar (lambda (l) (getf l key)) loops)))
             (is (every (lambda (loop) (plusp (getf loop :accepted))) loops)
                 "every loop accepted some: ~S" (mapcar (lambda (l) (getf l :accepted)) loops))))
      (c10k:stop-server server))
    (is (not (c10k:server-running-p server)))
    (is (null (c10k:server-stats server)))
    (is (refused-p (c10k:server-port server)))))

(test garbage-collections-while-loops-call-lisp
  ;; SBCL adopts the library's threads for each callback: collections
  ;; started from one loop's handler must stop and scan the other's.
  (let ((collections (list 0)))
    (with-http-server (server (lambda (request)
                                (when (zerop (random 25))
                                  (sb-ext:atomic-incf (car collections))
                                  (sb-ext:gc))
                                (hello-handler request))
                              :loops 2)
      (multiple-value-bind (output code)
          (run-python "concurrent_clients.py" (princ-to-string (c10k:server-port server)) "300")
        (is (zerop code))
        (is (search "300 ok" output) "python3 said: ~A" output)))
    (is (plusp (car collections)))))

(test multi-loop-deferred-replies-and-errors
  (let ((*error-output* (make-broadcast-stream)))
    (with-http-server (server (lambda (request)
                                (let ((path (c10k:request-path request)))
                                  (cond ((string= path "/boom") (error "kaboom"))
                                        ((string= path "/later")
                                         (let ((reply (c10k:defer-reply request)))
                                           (bt:make-thread
                                            (lambda ()
                                              (sleep 0.05)
                                              (c10k:send-reply reply 200 nil "later")))
                                           nil))
                                        (t (hello-handler request)))))
                              :loops 2)
      (let ((port (c10k:server-port server)))
        (is (= 500 (http port "GET" "/boom")))
        (is (string= "later" (nth-value 2 (http port "GET" "/later"))))
        (is (string= "Hello, World!" (nth-value 2 (http port "GET" "/"))))))))

(test multi-loop-stop-from-a-handler
  (let (server)
    (setf server (c10k:start-http-server
                  :port 0 :loops 2
                  :handler (lambda (request)
                             (declare (ignore request))
                             (c10k:stop-server server)
                             (values 200 nil "bye"))))
    (is (= 200 (http (c10k:server-port server) "GET" "/")))
    (loop repeat 200 while (c10k:server-running-p server) do (sleep 0.01))
    (is (not (c10k:server-running-p server)))
    (is (refused-p (c10k:server-port server)))))

(test multi-loop-address-in-use-is-a-c10k-error
  (with-http-server (server #'hello-handler)
    (let ((condition (handler-case (c10k:start-http-server :port (c10k:server-port server)
                                                           :loops 2 :handler #'hello-handler)
                       (c10k:c10k-error (c) c))))
      (is (typep condition 'c10k:c10k-error))
      (is (string= "C10K_EADDRINUSE" (ignore-errors (c10k:c10k-error-name condition)))))))

(test single-loop-stats
  (with-http-server (server #'hello-handler)
    (let ((port (c10k:server-port server)))
      (http port "GET" "/")
      (http port "GET" "/missing")
      (multiple-value-bind (total loops) (c10k:server-stats server)
        (is (= 2 (getf total :accepted)))
        (is (= 2 (getf total :requests)))
        (is (= 1 (getf total :responses-2xx)))
        (is (= 1 (getf total :responses-4xx)))
        (is (equal (list total) loops))))))


(test multi-loop-requests-of-a-turn-reach-lisp-together
  ;; On the library's threads every entry into Lisp costs SBCL a dozen
  ;; system calls, so a turn's requests come in one call (on_requests).
  ;; The loop is held in a handler until nine more clients have sent their
  ;; requests: the turns after it find them all waiting.
  (let ((release (sb-thread:make-semaphore)))
    (with-http-server (server (lambda (request)
                                (let ((path (c10k:request-path request)))
                                  (when (string= path "/hold")
                                    (sb-thread:wait-on-semaphore release :timeout 30))
                                  (values 200 '(("content-type" . "text/plain")) path)))
                              :loops 1)
      (let* ((port (c10k:server-port server))
             (clients (loop for i below 10 collect (multiple-value-list (connect port)))))
        (unwind-protect
             (progn
               (loop for (stream) in clients
                     for i from 0
                     do (write-sequence (octets (format nil "GET /~:[~D~;hold~*~] HTTP/1.1~C~C~
                                                             Host: t~C~CConnection: close~C~C~C~C"
                                                        (zerop i) i #\Return #\Newline
                                                        #\Return #\Newline #\Return #\Newline
                                                        #\Return #\Newline))
                                        stream)
                        (finish-output stream))
               (sb-thread:signal-semaphore release)
               (loop for (stream) in clients
                     for i from 0
                     do (multiple-value-bind (status headers body) (parse-response (read-all stream))
                          (declare (ignore headers))
                          (is (= 200 status))
                          (is (string= (if (zerop i) "/hold" (format nil "/~D" i)) body)))))
          (loop for (nil socket) in clients do (sb-bsd-sockets:socket-close socket))))
      (let ((total (c10k:server-stats server)))
        (is (= 10 (getf total :requests)))
        (is (< 0 (getf total :request-callbacks) 10)
            "~D calls into Lisp for 10 requests" (getf total :request-callbacks))))))
